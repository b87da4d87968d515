//! A rule's payload keywords sorted into Suricata's lists: the packet or
//! stream payload (`DETECT_SM_LIST_PMATCH`) and one list per sticky buffer
//! (with its transforms), following Suricata's setup rules:
//!
//! * a sticky-buffer keyword (`http.uri;`) makes the following payload
//!   keywords go to its list, until another sticky buffer or `pkt_data`;
//! * a legacy content modifier (`content:"x"; http_uri;`) moves the last
//!   `content` (with the modifiers written after it) from the payload list
//!   to the buffer's, and the keywords after it go to the payload list
//!   again;
//! * content modifiers (`nocase`, `depth`, `distance`, ...) apply to the
//!   last `content` of the rule, whichever list holds it;
//! * a transform must directly follow its sticky buffer;
//! * `bsize` checks the current sticky buffer's length, `urilen` the
//!   normalized (or raw) URI's.
//!
//! Each list is then compiled into a [`Program`] with a scope shared by all
//! of them, so a `byte_extract` variable is seen by later lists too.

use std::sync::Arc;

use crate::buffer::{Buffer, Transform, Transforms};
use crate::header::UintCmp;
use crate::payload::{BufferKind, Escapes, Program, ProgramBuilder, RegexStep, RuleScope};

use super::{Skip, invalid};

/// Modifiers that apply to the last `content`.
const CONTENT_MODIFIERS: &[&str] = &[
    "nocase",
    "depth",
    "offset",
    "distance",
    "within",
    "startswith",
    "endswith",
    "rawbytes",
    "fast_pattern",
];

enum Opt {
    /// `content` with its raw value.
    Content(Option<String>),
    /// Another payload keyword.
    Kw(String, Option<String>),
    /// A compiled `pcre`.
    Regex(Arc<dyn RegexStep>),
}

struct List {
    /// `None` for the payload; the buffer and its transforms otherwise.
    key: Option<(Buffer, Transforms)>,
    opts: Vec<Opt>,
    /// `bsize` / `urilen` checks on the buffer's length.
    sizes: Vec<UintCmp>,
}

/// One sticky-buffer list, compiled.
pub struct StickyList {
    /// The buffer.
    pub buffer: Buffer,
    /// Transforms.
    pub transforms: Transforms,
    /// Its keywords.
    pub program: Program,
    /// Length checks (`bsize`, `urilen`), all of which must hold.
    pub sizes: Vec<UintCmp>,
}

/// The lists being filled, in order of first use (the payload first).
pub struct Lists {
    lists: Vec<List>,
    cur: usize,
    /// The list and position of the rule's last `content`.
    last_content: Option<(usize, usize)>,
}

impl Lists {
    pub fn new() -> Lists {
        Lists {
            lists: vec![List {
                key: None,
                opts: Vec::new(),
                sizes: Vec::new(),
            }],
            cur: 0,
            last_content: None,
        }
    }

    fn list_for(&mut self, key: (Buffer, Transforms)) -> usize {
        if let Some(i) = self.lists.iter().position(|l| l.key == Some(key)) {
            return i;
        }
        self.lists.push(List {
            key: Some(key),
            opts: Vec::new(),
            sizes: Vec::new(),
        });
        self.lists.len() - 1
    }

    /// `content`, into the current list.
    pub fn content(&mut self, raw: Option<&str>) {
        let l = &mut self.lists[self.cur];
        l.opts.push(Opt::Content(raw.map(str::to_string)));
        self.last_content = Some((self.cur, l.opts.len() - 1));
    }

    /// `uricontent`: a `content` moved to `http.uri`, as if followed by
    /// `http_uri`.
    pub fn uricontent(&mut self, raw: Option<&str>) -> Result<(), Skip> {
        let cur = self.cur;
        self.cur = 0;
        self.content(raw);
        let r = self.modifier("uricontent", Buffer::HttpUri);
        self.cur = cur;
        r
    }

    /// `pcre`: into the buffer its HTTP modifier letter names (a new list
    /// position, as Suricata moves it), else the current list.
    pub fn pcre(&mut self, step: Arc<dyn RegexStep>) -> Result<(), Skip> {
        let i = match step.http_buffer() {
            Some(b) => self.list_for((b, Transforms::NONE)),
            None => self.cur,
        };
        self.lists[i].opts.push(Opt::Regex(step));
        Ok(())
    }

    /// Any other payload keyword.
    pub fn keyword(&mut self, name: &str, value: Option<&str>) {
        let target = if CONTENT_MODIFIERS.contains(&name) {
            self.last_content.map_or(self.cur, |(l, _)| l)
        } else {
            self.cur
        };
        self.lists[target]
            .opts
            .push(Opt::Kw(name.to_string(), value.map(str::to_string)));
    }

    /// A sticky-buffer keyword.
    pub fn sticky(&mut self, b: Buffer) {
        self.cur = self.list_for((b, Transforms::NONE));
    }

    /// `pkt_data`.
    pub fn pkt_data(&mut self) {
        self.cur = 0;
    }

    /// A transform on the current sticky buffer, before any keyword.
    pub fn transform(&mut self, name: &str, t: Transform) -> Result<(), Skip> {
        let l = &mut self.lists[self.cur];
        match &mut l.key {
            Some((_, ts)) if l.opts.is_empty() && l.sizes.is_empty() => {
                if ts.push(t) {
                    Ok(())
                } else {
                    Err(invalid(name, "too many transforms"))
                }
            }
            Some(_) => Err(invalid(
                name,
                "a transform must directly follow its sticky buffer",
            )),
            None => Err(invalid(name, "needs a sticky buffer before it")),
        }
    }

    /// `bsize` on the current sticky buffer.
    pub fn bsize(&mut self, v: &str) -> Result<(), Skip> {
        let c = UintCmp::parse("bsize", v, u64::MAX).map_err(|e| invalid("bsize", e.message))?;
        let l = &mut self.lists[self.cur];
        if l.key.is_none() {
            return Err(invalid("bsize", "needs a sticky buffer before it"));
        }
        l.sizes.push(c);
        Ok(())
    }

    /// `urilen:<cmp>[,norm|raw]`: a length check on `http.uri` (or
    /// `http.uri.raw`), Suricata's default being the normalized URI.
    pub fn urilen(&mut self, v: &str) -> Result<(), Skip> {
        let (cmp, kind) = match v.split_once(',') {
            Some((c, k)) => (c, k.trim()),
            None => (v, "norm"),
        };
        let b = match kind {
            "norm" => Buffer::HttpUri,
            "raw" => Buffer::HttpUriRaw,
            other => return Err(invalid("urilen", format!("unknown option '{other}'"))),
        };
        let c = UintCmp::parse("urilen", cmp, u64::from(u16::MAX))
            .map_err(|e| invalid("urilen", e.message))?;
        let i = self.list_for((b, Transforms::NONE));
        self.lists[i].sizes.push(c);
        Ok(())
    }

    /// A legacy content modifier: moves the last `content` (and the content
    /// modifiers written after it) from the payload list to `b`'s.
    pub fn modifier(&mut self, name: &str, b: Buffer) -> Result<(), Skip> {
        let Some((list, at)) = self.last_content else {
            return Err(invalid(name, "needs a preceding content"));
        };
        if list != 0 {
            return Err(invalid(
                name,
                "the content before it is already in a sticky buffer",
            ));
        }
        let target = self.list_for((b, Transforms::NONE));
        let payload = std::mem::take(&mut self.lists[0].opts);
        let mut keep = Vec::with_capacity(payload.len());
        let mut moved = Vec::new();
        for (i, o) in payload.into_iter().enumerate() {
            let moves = i == at
                || i > at && matches!(&o, Opt::Kw(n, _) if CONTENT_MODIFIERS.contains(&n.as_str()));
            if moves { moved.push(o) } else { keep.push(o) }
        }
        self.lists[0].opts = keep;
        let t = &mut self.lists[target].opts;
        let pos = t.len();
        t.extend(moved);
        self.last_content = Some((target, pos));
        self.cur = 0;
        Ok(())
    }

    /// Compiles every list: the payload program and the sticky lists in
    /// order of first use.
    pub fn build(self) -> Result<(Program, Vec<StickyList>), Skip> {
        let mut scope = RuleScope::new();
        let mut payload = None;
        let mut sticky = Vec::new();
        for l in self.lists {
            let kind = if l.key.is_some() {
                BufferKind::Sticky
            } else {
                BufferKind::Payload
            };
            let mut b = ProgramBuilder::new(&mut scope, kind);
            b.escapes(Escapes::Raw);
            for o in l.opts {
                match o {
                    Opt::Content(raw) => {
                        b.apply("content", raw.as_deref())
                            .map_err(|e| invalid("content", e.message))?;
                    }
                    Opt::Kw(name, value) => match b.apply(&name, value.as_deref()) {
                        Ok(true) => {}
                        Ok(false) => return Err(Skip::Unsupported(name)),
                        Err(e) => return Err(invalid(e.keyword, e.message)),
                    },
                    Opt::Regex(step) => {
                        b.regex(step).map_err(|e| invalid("pcre", e.message))?;
                    }
                }
            }
            let program = b.build().map_err(|e| invalid(e.keyword, e.message))?;
            match l.key {
                None => payload = Some(program),
                Some((buffer, transforms)) => {
                    if program.is_empty() && l.sizes.is_empty() {
                        return Err(invalid(
                            buffer.keyword(),
                            "a sticky buffer needs keywords after it",
                        ));
                    }
                    sticky.push(StickyList {
                        buffer,
                        transforms,
                        program,
                        sizes: l.sizes,
                    });
                }
            }
        }
        // The payload list is the first, so it is always built.
        let payload = payload.ok_or_else(|| invalid("content", "no payload list"))?;
        Ok((payload, sticky))
    }
}
