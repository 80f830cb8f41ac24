use std::path::PathBuf;
fn main() {
    let inputs = vec![PathBuf::from("/tmp/npmprobe/package")];
    let t = std::time::Instant::now();
    let (tok, stats) = phf_data::train_tokenizer(&inputs, 4096).unwrap();
    eprintln!("train bpe {:.1}s vocab {} {:?}", t.elapsed().as_secs_f64(), tok.vocab_size(), stats);
    let out = PathBuf::from("/tmp/phf_data_smoke/prepared");
    std::fs::create_dir_all("/tmp/phf_data_smoke").unwrap();
    let opts = phf_data::PrepareOptions { block_size: 128, valid_fraction: 0.05, seed: 1, progress: true };
    let r = phf_data::prepare(&inputs, &tok, &opts, &out).unwrap();
    println!("{}", serde_json::to_string_pretty(&r).unwrap());
    let shard = phf_data::Shard::open(&out.join("train")).unwrap();
    let mut l = phf_data::Loader::new(shard, 4, 0).unwrap();
    let b = l.next_batch();
    let ids: Vec<u32> = b.tokens[..128].iter().map(|&x| x as u32).collect();
    println!("{}", tok.decode(&ids));
}
