//! US street addresses, the paper's addition through pyap's US parser: a house number, a street name of
//! capitalised words, a street type (`Street`, `Ave`, …), optionally a unit, then a city and a state, and
//! optionally a ZIP code. pyap requires the street type, the city and the state; without them a number
//! followed by capitalised words is just prose, and a street alone (`42 Main St`) is not counted either.
//! Line breaks may separate the parts, as in a letter's address block.

use std::sync::LazyLock;

use regex::Regex;

use super::{Detection, PiiKind};

const STREET_TYPES: &str = "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|\
Square|Sq|Terrace|Ter|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Way|Alley|Trail|Trl|Plaza|Row|Crescent|Loop|Pike";

const STATES: &str = "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|\
NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|Alabama|Alaska|Arizona|Arkansas|California|Colorado|\
Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|\
Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|\
New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|\
Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming";

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    let number = r"\b\d{1,6}[A-Za-z]?";
    let direction = r"(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?\s+)?";
    let name = r"(?:(?:[A-Z][a-z]+|\d{1,3}(?:st|nd|rd|th))\s+){1,4}";
    // Parts are separated by whitespace or a comma, with or without a space after it (`Cir,Ashburn,VA`).
    let sep = r"(?:,\s*|\s+)";
    let unit = format!(r"(?:{sep}(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|#)\.?\s*#?[A-Za-z0-9-]+)?");
    let city_state_zip =
        format!(r"{sep}(?:[A-Z][a-z]+\s+){{0,2}}[A-Z][a-z]+{sep}(?:{STATES})\b(?:\s+\d{{5}}(?:-\d{{4}})?)?");
    let pattern = format!(r"{number}\s+{direction}{name}(?:{STREET_TYPES})\b\.?{unit}{city_state_zip}");
    Regex::new(&pattern).expect("valid pattern")
});

pub(crate) fn detect(text: &str, out: &mut Vec<Detection>) {
    for m in ADDRESS.find_iter(text) {
        let range = m.start()..m.start() + m.as_str().trim_end_matches([',', ' ']).len();
        out.push(Detection::new(PiiKind::Address, range));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::found_texts;

    #[test]
    fn positives() {
        assert_eq!(
            found_texts(
                "Send it to 1600 Pennsylvania Avenue, Washington, DC 20500 please",
                detect
            ),
            vec!["1600 Pennsylvania Avenue, Washington, DC 20500"]
        );
        assert_eq!(
            found_texts("Bob\n106 Longhorn Road\nWinter Park FL 32792\n", detect),
            vec!["106 Longhorn Road\nWinter Park FL 32792"]
        );
        assert_eq!(
            found_texts("at 221B Baker St. Apt 4, Springfield, Illinois.", detect),
            vec!["221B Baker St. Apt 4, Springfield, Illinois"]
        );
        assert_eq!(
            found_texts("Stephen 43392 Wayside Cir,Ashburn,VA 20147-4622\n703", detect),
            vec!["43392 Wayside Cir,Ashburn,VA 20147-4622"]
        );
        assert_eq!(
            found_texts("12 Oak Street Springfield IL", detect),
            vec!["12 Oak Street Springfield IL"]
        );
    }

    #[test]
    fn near_misses() {
        for text in [
            "I have 3 Big Dogs",
            "the street was empty",
            "in 1984 Orwell wrote",
            "12 angry men drive",
            "She lives at 42 Main St in town.",
            "42 W 34th St",
            "30 Lothian Road\nEdinburgh EH1 2DH",
        ] {
            assert!(
                found_texts(text, detect).is_empty(),
                "{text}: {:?}",
                found_texts(text, detect)
            );
        }
    }
}
