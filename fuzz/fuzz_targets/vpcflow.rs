//! VPC Flow Logs text: any format string and any record line parse or fail
//! cleanly, and a parsed record written back with the same format parses
//! to the same record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirador_engine::vpcflow::{Format, Record};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (head, line) = text.split_once('\n').unwrap_or((text, ""));
    let format = Format::parse(head).unwrap_or_else(|_| Format::default_v2());
    if let Ok(rec) = Record::parse(&format, line) {
        let again = rec.to_line(&format);
        let back = Record::parse(&format, &again).expect("own output parses");
        assert_eq!(back, rec);
    }
});
