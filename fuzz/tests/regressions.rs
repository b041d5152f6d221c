//! Replays, in every test run, each input that once made a fuzz target fail (kept in
//! `fuzz/regressions/<target>/`), and the targets' starting inputs.

use std::path::Path;

#[test]
fn inputs_that_once_failed_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut replayed = 0;
    for (name, target) in doorstep_fuzz::TARGETS {
        let dir = root.join(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                continue;
            }
            eprintln!("{name}: {}", path.display());
            target(&std::fs::read(&path).unwrap());
            replayed += 1;
        }
    }
    println!("{replayed} kept inputs replayed");
}

#[test]
fn the_starting_inputs_pass() {
    let seeds = doorstep_fuzz::seeds();
    for (name, target) in doorstep_fuzz::TARGETS {
        let (_, inputs) = seeds.iter().find(|(n, _)| *n == name).expect("seeds");
        assert!(!inputs.is_empty(), "{name} has starting inputs");
        for input in inputs {
            target(input);
        }
    }
}
