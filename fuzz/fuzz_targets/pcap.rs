//! The pcap/pcapng reader over arbitrary file contents.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirador_capture::PcapSource;

fuzz_target!(|data: &[u8]| {
    let reader = Box::new(std::io::Cursor::new(data.to_vec()));
    let Ok(mut src) = PcapSource::from_reader("fuzz.pcap".as_ref(), reader) else {
        return;
    };
    let mut n = 0usize;
    while let Ok(Some(rec)) = src.next_record() {
        assert!(rec.data.len() <= data.len());
        n += 1;
        // A record takes at least 16 bytes of input: no endless loop.
        assert!(n <= data.len() / 8 + 1);
    }
});
