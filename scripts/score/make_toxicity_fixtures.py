#!/usr/bin/env python3
"""Make crates/phf-score/tests/fixtures/toxicity_parity.jsonl: texts and tox-block 0.1.2's own predictions.

The reference is the Python package itself: `tox_block.prediction._encoder.transform` (the Keras tokenizer and
`pad_sequences`) and `_model.predict` (the Keras BiLSTM), i.e. `make_predictions(..., rescale=False)` minus
its input validation, which rejects empty strings that the Rust scorer must still score.

Run it in a venv with tox-block 0.1.2 and a TensorFlow that loads it (TF 2.15 on Python 3.11, Keras 2 — Keras 3
changed hard_sigmoid):
    python3 -m venv ~/.cache/phf/toxref-venv
    ~/.cache/phf/toxref-venv/bin/pip install tensorflow-cpu==2.15.1 pandas scikit-learn joblib tox-block==0.1.2
    ~/.cache/phf/toxref-venv/bin/pip install --no-deps keras-preprocessing==1.1.2   # the pickled tokenizer's class
    ~/.cache/phf/toxref-venv/bin/python scripts/score/make_toxicity_fixtures.py OUT.jsonl

Every text below was written for this fixture (no corpus data). Some are deliberately offensive: a toxicity
scorer has to be checked on the inputs it exists to flag.
"""

import json
import sys

BASE = {
    "clean": [
        "Thank you for the detailed review, I will fix the typo tomorrow.",
        "The weather in Lisbon was lovely and we walked along the river.",
        "Could you please add a citation for the second paragraph?",
        "I disagree with this edit, but I appreciate the effort you put in.",
        "The article needs more sources about the history of the bridge.",
        "Welcome to the project! Let me know if you have any questions.",
        "This recipe uses two cups of flour and a pinch of salt.",
        "The committee will meet again on Thursday to discuss the budget.",
        "Great photo, the colours of the sunset are beautiful.",
        "I reverted your change because it removed a reference.",
        "Happy birthday, I hope you have a wonderful day.",
        "The library opens at nine and closes at five on weekdays.",
        "Our team won the match three to one after extra time.",
        "Please read the talk page guidelines before replying.",
        "Thanks for fixing the broken link in the infobox.",
        "The cat slept on the windowsill all afternoon.",
        "Kill the process with the stop button if it hangs.",
        "This song is sick, the guitar solo is killer.",
        "The bomb squad safely removed the old shell from the field.",
        "He shot the photo with an old film camera.",
        "hello",
        "ok",
        "yes",
        "What time does the train to Boston leave?",
        "I love this community and everyone in it.",
    ],
    "profane": [
        "What the fuck is going on with this page?",
        "This is fucking ridiculous.",
        "Holy shit, that was fast.",
        "Damn, I forgot my keys again.",
        "Shit happens, just revert it.",
        "This article is a pile of crap.",
        "Fuck this, I'm done editing.",
        "bullshit",
        "That's some bullshit right there.",
        "Who the hell wrote this?",
        "FUCK FUCK FUCK",
        "shit shit shit",
        "Oh crap, I broke the template.",
        "This damn thing never works.",
        "f*ck this s**t",
        "fck u",
        "What a bloody mess.",
        "piss off",
    ],
    "insult": [
        "You are an idiot.",
        "You're a complete moron and everyone knows it.",
        "Shut up, you stupid loser.",
        "What an ignorant fool you are.",
        "You are pathetic and your edits are garbage.",
        "Only a dumbass would write something this bad.",
        "You are the dumbest person on this site.",
        "Go away, nobody likes you, you worthless troll.",
        "you suck",
        "You are a jerk and a hypocrite.",
        "Get a life, you sad little nerd.",
        "You are such an asshole.",
        "What a stupid, stupid idea.",
        "Your brain must be the size of a pea.",
        "You fat ugly pig.",
        "Stop being such a dick.",
        "You are a disgusting piece of trash.",
        "idiot",
        "moron",
        "You clown.",
    ],
    "threat": [
        "I will find you and hurt you.",
        "I'm going to kill you.",
        "If you revert this again I will beat you up.",
        "Watch your back, I know where you live.",
        "You deserve to die.",
        "I hope someone shoots you.",
        "I will burn your house down.",
        "Say that again and I'll break your neck.",
        "I'm going to punch you in the face.",
        "You will regret this, I promise you will suffer.",
        "kill yourself",
        "I will hunt you down.",
    ],
    "identity": [
        "All immigrants are criminals and should be sent back.",
        "Women are too stupid to edit articles.",
        "Gay people are disgusting.",
        "Muslims are all terrorists.",
        "Jews control the media.",
        "Black people are inferior.",
        "Go back to your country.",
        "Christians are brainwashed idiots.",
        "Old people should just die already.",
        "Disabled people are a burden on society.",
        "I am a gay man and proud of it.",
        "She is a Muslim woman who works as a doctor.",
        "The Jewish community center hosts a book club.",
        "Black history month starts in February.",
        "Immigrants contributed a lot to this city.",
    ],
    "negation": [
        "You are not an idiot.",
        "I would never call you stupid.",
        "I don't think you are a moron at all.",
        "Nobody here is a loser.",
        "It is not okay to say fuck in this forum.",
        "Please don't call people idiots.",
        "I am not going to kill anyone.",
        "You are not stupid, you just made a mistake.",
        "This is not bullshit, it is well sourced.",
        "No one deserves to die for an edit.",
    ],
    "unicode": [
        "Ты идиот.",
        "Eres un idiota.",
        "Du bist so dumm.",
        "tu es un imbécile",
        "お前はバカだ",
        "你是白痴",
        "אתה טיפש",
        "أنت غبي",
        "Ｆｕｃｋ　ｙｏｕ",
        "𝐟𝐮𝐜𝐤 𝐲𝐨𝐮",
        "I ❤️ this article 😊",
        "you 💩 idiot 🤡",
        "İstanbul ΣΊΣΥΦΟΣ Straße ǅungla",
        "café naïve résumé coöperate",
        "don’t you dare, you’re an idiot",
        "“Quoted” ‘text’ — with dashes – and… ellipses",
        "fuсk (with a Cyrillic es)",
        "zero\u200bwidth\u200bspaces idiot",
        "non\u00a0breaking\u00a0idiot",
        "tab\tseparated\tmoron",
    ],
    "edge": [
        "",
        " ",
        "\n",
        "\t\t",
        ".",
        "!!!???",
        "\u0000",
        "nul\u0000byte idiot",
        "a",
        "I",
        "the the the the",
        "1234567890",
        "http://example.com/idiot",
        "@user you idiot",
        "ID10T",
        "mixed\r\nnewlines\rand\nmore idiot",
        "UPPER CASE SHOUTING FOR NO REASON",
        "lower case whispering for no reason",
        "#hashtag #idiot #fun",
        "email me at someone@example.com",
    ],
}


def variants(base):
    """Deterministic variations that exercise the tokenizer: case, punctuation, wrapping, repetition."""
    out = []
    for category, texts in base.items():
        for t in texts:
            out.append((category, t))
    toxic_seeds = base["insult"][:10] + base["profane"][:6] + base["threat"][:6]
    clean_seeds = base["clean"][:10]
    for t in toxic_seeds + clean_seeds:
        out.append(("upper", t.upper()))
        out.append(("punct", "!!! " + t.replace(" ", "... ") + " ?!?!"))
    for t in toxic_seeds[:10]:
        out.append(("negation", "I would never say that " + t[0].lower() + t[1:]))
        out.append(("quoted", 'He wrote "' + t + '" and then apologised.'))
        out.append(("newlines", t.replace(" ", "\n")))
    for t in toxic_seeds:
        out.append(("title", t.title()))
    for t in base["identity"] + base["negation"] + base["unicode"]:
        out.append(("suffix", t + " lol"))
    for t in clean_seeds:
        for s in toxic_seeds[:3]:
            out.append(("mixed", t + " " + s))
    # Long texts: more than 100 known words, so truncation keeps only the last 100 ids.
    long_clean = " ".join(base["clean"] * 6)
    long_toxic_end = long_clean + " " + base["insult"][1]
    long_toxic_start = base["insult"][1] + " " + long_clean
    out += [("long", long_clean), ("long", long_toxic_end), ("long", long_toxic_start)]
    out.append(("long", "idiot " * 500))
    out.append(("long", ("the weather is nice today " * 400) + "you moron"))
    out.append(("long", "x" * 20_000))
    out.append(("long", "\n".join(base["threat"] * 20)))
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    import numpy as np
    import pandas as pd
    import tensorflow as tf
    from tox_block.prediction import _encoder, _model

    items = variants(BASE)
    texts = [t for _, t in items]
    ids = _encoder.transform(pd.DataFrame(texts, columns=["text"]))
    probs = _model.predict(ids, batch_size=64, verbose=0)
    labels = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        meta = {"_meta": {"reference": "tox-block 0.1.2 (_encoder.transform + _model.predict, no rescaling)",
                          "tensorflow": tf.__version__, "numpy": np.__version__,
                          "script": "scripts/score/make_toxicity_fixtures.py", "labels": labels}}
        f.write(json.dumps(meta) + "\n")
        for (category, text), row, p in zip(items, ids, probs):
            record = {"category": category, "text": text,
                      "ids": [int(i) for i in row if i != 0],
                      "probs": [float(x) for x in p]}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(items)} texts to {sys.argv[1]}", file=sys.stderr)


if __name__ == "__main__":
    main()
