//! Errors: one rule that cannot be loaded ([`RuleError`]), one line of a
//! side file that cannot be read ([`SideFileError`]), and an address or
//! port expression that cannot be parsed or resolved ([`ExprError`]).

use std::fmt;
use std::sync::Arc;

/// What kind of problem a [`RuleError`] reports; [`RuleError::reason`]
/// turns it into a short, bounded string for `check-rules` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not `action protocol src sp direction dst dp (options)`.
    Syntax,
    /// A header field (action, protocol, address, port, direction) is invalid.
    Header,
    /// An option is malformed: no terminating `;`, unbalanced quotes, a
    /// missing or unexpected value, or a value its keyword rejects.
    Option,
    /// An option names a keyword Suricata does not know.
    UnknownKeyword,
    /// A required option (`sid`) is absent.
    Missing,
    /// The rule is longer than Suricata accepts (8192 bytes).
    TooLong,
    /// An address or port expression does not resolve against the variables.
    Resolve,
}

/// A rule that cannot be loaded: the file, line (and column where known),
/// the field or keyword at fault, and what is wrong.
///
/// Displays as `FILE:LINE[:COL]: FIELD: MESSAGE`, for example
/// `rules.rules:12:80: sid: invalid value 'x'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The file the rule comes from; `None` for a rule parsed on its own.
    pub file: Option<Arc<str>>,
    /// 1-based line of the fault (for multi-line rules, the physical line
    /// holding it).
    pub line: u32,
    /// 1-based column of the fault, in characters, where known.
    pub column: Option<u32>,
    /// The header field (`action`, `protocol`, `src`, `src_port`,
    /// `direction`, `dst`, `dst_port`) or option keyword at fault.
    pub field: Option<String>,
    /// The kind of problem.
    pub kind: ErrorKind,
    /// What is wrong.
    pub message: String,
}

impl RuleError {
    /// A short reason for grouping errors (`check-rules --json` counts
    /// `{reason: count}`): built from the kind and field only, so the set
    /// of reasons stays small however many rules fail.
    pub fn reason(&self) -> String {
        let field = self.field.as_deref().unwrap_or("rule");
        match self.kind {
            ErrorKind::Syntax => "syntax error".to_string(),
            ErrorKind::Header => format!("invalid {field}"),
            ErrorKind::Option => format!("invalid {field}"),
            ErrorKind::UnknownKeyword => format!("unknown keyword '{field}'"),
            ErrorKind::Missing => format!("missing {field}"),
            ErrorKind::TooLong => "rule too long".to_string(),
            ErrorKind::Resolve => format!("unresolvable {field}"),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file.as_deref().unwrap_or("rule"))?;
        write!(f, ":{}", self.line)?;
        if let Some(col) = self.column {
            write!(f, ":{col}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for RuleError {}

/// A line of `classification.config`, `reference.config` or
/// `threshold.config` that cannot be read.
///
/// Displays as `FILE:LINE: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideFileError {
    /// The file, by the name it was loaded under.
    pub file: Arc<str>,
    /// 1-based line (the first line of a backslash-continued entry).
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SideFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for SideFileError {}

/// Which kind of expression an [`ExprError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExprKind {
    /// An address expression (`vars.address-groups`, rule addresses).
    Address,
    /// A port expression (`vars.port-groups`, rule ports).
    Port,
}

impl ExprKind {
    fn noun(self) -> &'static str {
        match self {
            ExprKind::Address => "address",
            ExprKind::Port => "port",
        }
    }
}

/// An address or port expression that cannot be parsed or resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExprError {
    /// The text is not a valid expression.
    Syntax {
        /// Address or port.
        kind: ExprKind,
        /// What is wrong, naming the offending part.
        message: String,
    },
    /// `$NAME` names no variable of this kind.
    UndefinedVariable {
        /// Address or port.
        kind: ExprKind,
        /// The variable, without `$`.
        name: String,
    },
    /// A variable refers back to itself, directly or through others.
    Cycle {
        /// Address or port.
        kind: ExprKind,
        /// The variable met a second time, without `$`.
        name: String,
    },
    /// Variables nest deeper than [`crate::vars::MAX_VAR_DEPTH`].
    TooDeep {
        /// Address or port.
        kind: ExprKind,
    },
    /// Expanding variables produced more than
    /// [`crate::vars::MAX_EXPANDED_ITEMS`] items.
    TooLarge {
        /// Address or port.
        kind: ExprKind,
    },
    /// The negations cover the whole space (for addresses: all of IPv4,
    /// as Suricata checks), as `!any` does.
    CompleteSpaceNegated {
        /// Address or port.
        kind: ExprKind,
    },
    /// Nothing is left once the negations are applied.
    Empty {
        /// Address or port.
        kind: ExprKind,
    },
    /// The error lies in the value of a variable.
    InVariable {
        /// The variable, without `$`.
        name: String,
        /// The error in its value.
        error: Box<ExprError>,
    },
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExprError::Syntax { message, .. } => f.write_str(message),
            ExprError::UndefinedVariable { kind, name } => {
                write!(f, "undefined {} variable ${name}", kind.noun())
            }
            ExprError::Cycle { kind, name } => {
                write!(f, "{} variable ${name} refers to itself", kind.noun())
            }
            ExprError::TooDeep { kind } => {
                write!(f, "{} variables nest too deeply", kind.noun())
            }
            ExprError::TooLarge { kind } => {
                write!(f, "{} expression expands to too many items", kind.noun())
            }
            ExprError::CompleteSpaceNegated { kind } => match kind {
                ExprKind::Address => f.write_str("the complete IPv4 address space is negated"),
                ExprKind::Port => f.write_str("the complete port space is negated"),
            },
            ExprError::Empty { kind } => {
                write!(f, "no {}es left after applying the negations", kind.noun())
            }
            ExprError::InVariable { name, error } => write!(f, "in ${name}: {error}"),
        }
    }
}

impl std::error::Error for ExprError {}

/// Shortens user text quoted in an error message, so a huge input cannot
/// make a huge message.
pub(crate) fn quote(s: &str) -> String {
    const MAX: usize = 64;
    if s.len() <= MAX {
        return format!("'{s}'");
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("'{}...'", &s[..end])
}
