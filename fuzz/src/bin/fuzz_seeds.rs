//! Writes starting inputs for the fuzz targets into `<folder>/<target>/`: real requests,
//! documents and changes of a generated town, so the fuzzer starts from what the network
//! really carries (`scripts/fuzz.sh` runs it before fuzzing).

fn main() -> std::io::Result<()> {
    let folder = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "target/fuzz/corpus".into());
    for (target, seeds) in doorstep_fuzz::seeds() {
        let dir = folder.join(target);
        std::fs::create_dir_all(&dir)?;
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:03}")), seed)?;
        }
        println!("{target}: {} seeds in {}", seeds.len(), dir.display());
    }
    Ok(())
}
