//! The `pcre` keyword's value: `"/<regex>/<modifiers>"`, as Suricata's
//! `DetectPcreParse` reads it.

use super::PcreError;

/// The PCRE compile flags a rule can set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags {
    /// `i`: PCRE2_CASELESS (ASCII letters only, as PCRE without UTF).
    pub caseless: bool,
    /// `s`: PCRE2_DOTALL, `.` also matches `\n`.
    pub dotall: bool,
    /// `m`: PCRE2_MULTILINE, `^`/`$` also at line starts/ends.
    pub multiline: bool,
    /// `x`: PCRE2_EXTENDED, unescaped white space and `#` comments ignored.
    pub extended: bool,
    /// `A`: PCRE2_ANCHORED, a match must start at the search offset.
    pub anchored: bool,
    /// `E`: PCRE2_DOLLAR_ENDONLY, `$` only at the very end (not before a
    /// final newline); ignored with `m`.
    pub dollar_endonly: bool,
    /// `G`: PCRE2_UNGREEDY, quantifiers lazy unless followed by `?`.
    pub ungreedy: bool,
}

/// The HTTP buffer a buffer modifier selects (Suricata's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Buffer {
    /// `U`: `http_uri` (normalized).
    HttpUri,
    /// `I`: `http_raw_uri`.
    HttpRawUri,
    /// `P`: `http_client_body`.
    HttpClientBody,
    /// `Q`: `file_data` (response body).
    FileData,
    /// `H`: `http_header` (normalized).
    HttpHeader,
    /// `D`: `http_raw_header`.
    HttpRawHeader,
    /// `M`: `http_method`.
    HttpMethod,
    /// `C`: `http_cookie`.
    HttpCookie,
    /// `S`: `http_stat_code`.
    HttpStatCode,
    /// `Y`: `http_stat_msg`.
    HttpStatMsg,
    /// `V`: `http_user_agent`.
    HttpUserAgent,
    /// `W`: `http_host` (normalized, lowercase).
    HttpHost,
    /// `Z`: `http_raw_host`.
    HttpRawHost,
}

impl Buffer {
    /// The modifier letter.
    pub fn letter(self) -> char {
        match self {
            Buffer::HttpUri => 'U',
            Buffer::HttpRawUri => 'I',
            Buffer::HttpClientBody => 'P',
            Buffer::FileData => 'Q',
            Buffer::HttpHeader => 'H',
            Buffer::HttpRawHeader => 'D',
            Buffer::HttpMethod => 'M',
            Buffer::HttpCookie => 'C',
            Buffer::HttpStatCode => 'S',
            Buffer::HttpStatMsg => 'Y',
            Buffer::HttpUserAgent => 'V',
            Buffer::HttpHost => 'W',
            Buffer::HttpRawHost => 'Z',
        }
    }

    /// Suricata's buffer name, e.g. `http_uri`.
    pub fn name(self) -> &'static str {
        match self {
            Buffer::HttpUri => "http_uri",
            Buffer::HttpRawUri => "http_raw_uri",
            Buffer::HttpClientBody => "http_client_body",
            Buffer::FileData => "file_data",
            Buffer::HttpHeader => "http_header",
            Buffer::HttpRawHeader => "http_raw_header",
            Buffer::HttpMethod => "http_method",
            Buffer::HttpCookie => "http_cookie",
            Buffer::HttpStatCode => "http_stat_code",
            Buffer::HttpStatMsg => "http_stat_msg",
            Buffer::HttpUserAgent => "http_user_agent",
            Buffer::HttpHost => "http_host",
            Buffer::HttpRawHost => "http_raw_host",
        }
    }

    fn from_letter(c: char) -> Option<Buffer> {
        Some(match c {
            'U' => Buffer::HttpUri,
            'I' => Buffer::HttpRawUri,
            'P' => Buffer::HttpClientBody,
            'Q' => Buffer::FileData,
            'H' => Buffer::HttpHeader,
            'D' => Buffer::HttpRawHeader,
            'M' => Buffer::HttpMethod,
            'C' => Buffer::HttpCookie,
            'S' => Buffer::HttpStatCode,
            'Y' => Buffer::HttpStatMsg,
            'V' => Buffer::HttpUserAgent,
            'W' => Buffer::HttpHost,
            'Z' => Buffer::HttpRawHost,
            _ => return None,
        })
    }

    /// Whether Suricata refuses this modifier together with `B`.
    fn conflicts_with_rawbytes(self) -> bool {
        !matches!(
            self,
            Buffer::HttpRawHeader
                | Buffer::HttpClientBody
                | Buffer::FileData
                | Buffer::HttpStatMsg
                | Buffer::HttpStatCode
        )
    }
}

/// A parsed `pcre` option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcreSpec {
    /// The regex between the delimiters, verbatim (PCRE syntax).
    pub pattern: String,
    /// The PCRE compile flags.
    pub flags: Flags,
    /// `pcre:!"..."`: the keyword matches when the regex does not.
    pub negated: bool,
    /// `R`: the search starts where the previous content/pcre match ended.
    pub relative: bool,
    /// `O`: use the configured match limits instead of Suricata's default
    /// ones.
    pub match_limit_override: bool,
    /// `B`: Snort's raw-bytes modifier (no effect on the match).
    pub raw_bytes: bool,
    /// The HTTP buffer a buffer modifier selects, if any.
    pub buffer: Option<Buffer>,
    /// Variable names captured into (`, flow:name`, `, pkt:name` after the
    /// regex), in order.
    pub capture_vars: Vec<String>,
}

fn err(msg: impl Into<String>) -> PcreError {
    PcreError::Option(msg.into())
}

impl PcreSpec {
    /// Parses the keyword's value: optional `!`, optional surrounding
    /// double quotes, `/regex/modifiers`, optional capture variables.
    pub fn parse(value: &str) -> Result<PcreSpec, PcreError> {
        let mut s = value.trim();
        let mut negated = false;
        if let Some(rest) = s.strip_prefix('!') {
            negated = true;
            s = rest.trim_start();
        }
        if let Some(inner) = s.strip_prefix('"') {
            s = inner
                .strip_suffix('"')
                .ok_or_else(|| err("the value opens a double quote it does not close"))?;
        }
        if s.contains('\n') || s.contains('\r') {
            return Err(err("a pcre value cannot contain a line break"));
        }
        // Capture variables: `, flow:name` or ` pkt:name` after the regex
        // (Suricata looks for the first "flow:"/"pkt:" preceded by commas
        // or spaces).
        let mut capture_vars = Vec::new();
        let cut = ["flow:", "pkt:"].iter().filter_map(|k| s.find(k)).min();
        if let Some(cut) = cut {
            let head = &s[..cut];
            let trimmed = head.trim_end_matches([',', ' ']);
            if trimmed.len() < head.len() && cut > 1 {
                for name in s[cut..].split([',', ' ']).filter(|n| !n.is_empty()) {
                    if !(name.starts_with("flow:") || name.starts_with("pkt:")) {
                        return Err(err(format!(
                            "capture variable {name:?} must start with 'pkt:' or 'flow:'"
                        )));
                    }
                    capture_vars.push(name.to_owned());
                }
                s = trimmed;
            }
        }
        // Suricata's parse regex: (?<!\\)/(.*(?<!(?<!\\)\\))/([^"]*)
        let bytes = s.as_bytes();
        let open = (0..bytes.len())
            .find(|&i| bytes[i] == b'/' && (i == 0 || bytes[i - 1] != b'\\'))
            .ok_or_else(|| err("the regex must be delimited by slashes: /regex/modifiers"))?;
        if open != 0 {
            return Err(err(format!(
                "unexpected {:?} before the regex's opening '/'",
                &s[..open]
            )));
        }
        // The last '/' whose preceding text does not end in one escaping
        // backslash.
        let close = (open + 1..bytes.len())
            .rev()
            .find(|&i| {
                bytes[i] == b'/' && {
                    let body = &bytes[open + 1..i];
                    !body.ends_with(b"\\") || body.ends_with(b"\\\\")
                }
            })
            .ok_or_else(|| err("the regex has no closing '/'"))?;
        let pattern = s[open + 1..close].to_owned();
        let modifiers = &s[close + 1..];
        let modifiers = modifiers.split('"').next().unwrap_or("");
        if modifiers.len() >= 64 {
            return Err(err("too many regex modifiers"));
        }
        let mut spec = PcreSpec {
            pattern,
            flags: Flags::default(),
            negated,
            relative: false,
            match_limit_override: false,
            raw_bytes: false,
            buffer: None,
            capture_vars,
        };
        for c in modifiers.chars() {
            let f = &mut spec.flags;
            match c {
                'A' => f.anchored = true,
                'E' => f.dollar_endonly = true,
                'G' => f.ungreedy = true,
                'i' => f.caseless = true,
                'm' => f.multiline = true,
                's' => f.dotall = true,
                'x' => f.extended = true,
                'O' => spec.match_limit_override = true,
                'R' => spec.relative = true,
                'B' => {
                    if spec.buffer.is_some() {
                        return Err(err("regex modifier 'B' inconsistent with chosen buffer"));
                    }
                    spec.raw_bytes = true;
                }
                _ => {
                    let Some(buffer) = Buffer::from_letter(c) else {
                        return Err(err(format!("unknown regex modifier '{c}'")));
                    };
                    if spec.raw_bytes && buffer.conflicts_with_rawbytes() {
                        return Err(err(format!("regex modifier '{c}' inconsistent with 'B'")));
                    }
                    if spec.buffer.is_some() {
                        return Err(err(
                            "only one pcre option to specify a buffer type is allowed",
                        ));
                    }
                    spec.buffer = Some(buffer);
                }
            }
        }
        if spec.buffer == Some(Buffer::HttpHost)
            && !spec.flags.caseless
            && has_upper_case(&spec.pattern)
        {
            return Err(err(
                "pcre with the http_host modifier 'W' has an uppercase character: \
                 the host buffer is lowercase, write the regex in lowercase",
            ));
        }
        Ok(spec)
    }
}

/// Suricata's `DetectPcreHasUpperCase`: an uppercase letter that is not
/// escaped (nor part of a `\xHH` escape).
fn has_upper_case(re: &str) -> bool {
    let b = re.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            i += if b.get(i + 1) == Some(&b'x') { 4 } else { 2 };
            continue;
        }
        if b[i].is_ascii_uppercase() {
            return true;
        }
        i += 1;
    }
    false
}
