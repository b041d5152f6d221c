//! libFuzzer driver for [`doorstep_fuzz::sync_request`]. Panics the product catches (automerge's, on
//! crafted input) are not reported; one that escapes the target still stops the fuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: std::panic::set_hook(Box::new(|_| {})),
    |data: &[u8]| doorstep_fuzz::sync_request(data)
);
