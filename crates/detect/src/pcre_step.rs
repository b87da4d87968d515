//! The `pcre` keyword as a payload-program step: [`crate::pcre::Pcre`]
//! behind the [`RegexStep`] hook, and the compiler [`crate::signature`]
//! calls for `pcre` options.

use std::sync::Arc;

use crate::payload::RegexStep;
use crate::pcre::{Pcre, PcreError};
use crate::signature::Skip;

/// A compiled `pcre` as a payload step.
#[derive(Debug)]
pub struct PcreStep(pub Pcre);

impl RegexStep for PcreStep {
    fn find_at(&self, hay: &[u8], start: usize) -> Option<(usize, usize)> {
        match self.0.try_find_at(hay, start) {
            Ok(m) => m,
            // A search that gave up is no match either way: for a negated
            // `pcre` that means reporting a match, so that the negation
            // fails (Suricata never alerts on a match-limit hit).
            Err(_) if self.0.negated() => Some((start, start)),
            Err(_) => None,
        }
    }

    fn relative(&self) -> bool {
        self.0.relative()
    }

    fn negated(&self) -> bool {
        self.0.negated()
    }

    fn http_buffer(&self) -> Option<crate::buffer::Buffer> {
        use crate::buffer::Buffer as B;
        use crate::pcre::Buffer as P;
        Some(match self.0.buffer()? {
            P::HttpUri => B::HttpUri,
            P::HttpRawUri => B::HttpUriRaw,
            P::HttpClientBody => B::HttpRequestBody,
            P::FileData => B::FileData,
            P::HttpHeader => B::HttpHeader,
            P::HttpRawHeader => B::HttpHeaderRaw,
            P::HttpMethod => B::HttpMethod,
            P::HttpCookie => B::HttpCookie,
            P::HttpStatCode => B::HttpStatCode,
            P::HttpStatMsg => B::HttpStatMsg,
            P::HttpUserAgent => B::HttpUserAgent,
            P::HttpHost => B::HttpHost,
            P::HttpRawHost => B::HttpHostRaw,
        })
    }
}

/// Compiles a `pcre` option value (as written, quotes and `!` included).
/// A pattern with no exact translation is unsupported (`pcre <construct>`);
/// one that inspects an HTTP buffer (`/U`, `/H`, ...) goes to the
/// rule list of that buffer ([`RegexStep::http_buffer`]); a malformed one
/// is invalid.
pub fn compile_pcre(raw: &str) -> Result<Arc<dyn RegexStep>, Skip> {
    let p = Pcre::new(raw).map_err(|e| match e {
        PcreError::Unsupported { construct, .. } => Skip::Unsupported(format!("pcre {construct}")),
        other => Skip::Invalid {
            keyword: "pcre".into(),
            message: other.to_string(),
        },
    })?;
    Ok(Arc::new(PcreStep(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_and_skips_as_documented() {
        let s = compile_pcre(r#""/^GET\s+\/evil/i""#).unwrap();
        assert!(s.find_at(b"get  /EVIL", 0).is_some());
        assert!(!s.relative() && !s.negated());
        assert!(compile_pcre(r#""/x/R""#).unwrap().relative());
        assert!(compile_pcre(r#"!"/x/""#).unwrap().negated());
        assert_eq!(
            compile_pcre(r#""/x/U""#).unwrap().http_buffer(),
            Some(crate::buffer::Buffer::HttpUri)
        );
        assert_eq!(compile_pcre(r#""/x/""#).unwrap().http_buffer(), None);
        assert!(matches!(
            compile_pcre(r#""/(/""#),
            Err(Skip::Invalid { .. })
        ));
    }
}
