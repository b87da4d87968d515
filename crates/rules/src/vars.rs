//! Rule variables: Suricata's `vars.address-groups` and `vars.port-groups`,
//! with Suricata's defaults, per-tenant overrides, and the bounded
//! resolver behind [`crate::AddrExpr::resolve`] and
//! [`crate::PortExpr::resolve`].
//!
//! Variables are stored parsed but unresolved: a variable's value may name
//! other variables, and those are looked up when an expression is
//! resolved, so an override of `HOME_NET` also changes `EXTERNAL_NET`
//! (`!$HOME_NET`) and every `*_SERVERS` that refers to it.

use std::collections::BTreeMap;

use crate::addr::AddrExpr;
use crate::error::{ExprError, ExprKind};
use crate::port::PortExpr;

/// Deepest chain of variables referring to variables. Suricata has no
/// explicit cap on addresses (it detects loops) and stops port recursion
/// at 64; real configurations nest two or three deep.
pub const MAX_VAR_DEPTH: usize = 32;

/// Most items (literals, groups, variable references) one resolution may
/// visit, counting every expansion of a variable. Bounds the work of
/// variables that each name another one twice (`A = [$B,$B]`, `B =
/// [$C,$C]`, ...), which would otherwise double per level.
pub const MAX_EXPANDED_ITEMS: usize = 65_536;

/// Suricata's default `vars.address-groups` (suricata.yaml, 7.0).
pub const SURICATA_ADDRESS_GROUPS: &[(&str, &str)] = &[
    ("HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"),
    ("EXTERNAL_NET", "!$HOME_NET"),
    ("HTTP_SERVERS", "$HOME_NET"),
    ("SMTP_SERVERS", "$HOME_NET"),
    ("SQL_SERVERS", "$HOME_NET"),
    ("DNS_SERVERS", "$HOME_NET"),
    ("TELNET_SERVERS", "$HOME_NET"),
    ("AIM_SERVERS", "$EXTERNAL_NET"),
    ("DC_SERVERS", "$HOME_NET"),
    ("DNP3_SERVER", "$HOME_NET"),
    ("DNP3_CLIENT", "$HOME_NET"),
    ("MODBUS_CLIENT", "$HOME_NET"),
    ("MODBUS_SERVER", "$HOME_NET"),
    ("ENIP_CLIENT", "$HOME_NET"),
    ("ENIP_SERVER", "$HOME_NET"),
];

/// Suricata's default `vars.port-groups` (suricata.yaml, 7.0).
pub const SURICATA_PORT_GROUPS: &[(&str, &str)] = &[
    ("HTTP_PORTS", "80"),
    ("SHELLCODE_PORTS", "!80"),
    ("ORACLE_PORTS", "1521"),
    ("SSH_PORTS", "22"),
    ("DNP3_PORTS", "20000"),
    ("MODBUS_PORTS", "502"),
    ("FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"),
    ("FTP_PORTS", "21"),
    ("GENEVE_PORTS", "6081"),
    ("VXLAN_PORTS", "4789"),
    ("TEREDO_PORTS", "3544"),
];

/// A set of address and port variables.
///
/// ```
/// use mirador_rules::{AddrExpr, Vars};
///
/// let base = Vars::suricata_defaults();
/// let mut tenant = Vars::new();
/// tenant.set_address("HOME_NET", "[10.20.0.0/16]").unwrap();
/// let vars = Vars::with_overrides(&base, &tenant);
///
/// let ext = AddrExpr::parse("$EXTERNAL_NET").unwrap();
/// let ip = "192.168.1.1".parse().unwrap();
/// assert!(!ext.resolve(&base).unwrap().contains(ip));
/// assert!(ext.resolve(&vars).unwrap().contains(ip));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    address: BTreeMap<String, AddrExpr>,
    port: BTreeMap<String, PortExpr>,
}

impl Vars {
    /// No variables.
    pub fn new() -> Vars {
        Vars::default()
    }

    /// Suricata's defaults: [`SURICATA_ADDRESS_GROUPS`] and
    /// [`SURICATA_PORT_GROUPS`].
    pub fn suricata_defaults() -> Vars {
        let mut v = Vars::new();
        for (name, value) in SURICATA_ADDRESS_GROUPS {
            // The defaults are constants checked by the tests.
            if let Ok(e) = AddrExpr::parse(value) {
                v.address.insert((*name).to_string(), e);
            }
        }
        for (name, value) in SURICATA_PORT_GROUPS {
            if let Ok(e) = PortExpr::parse(value) {
                v.port.insert((*name).to_string(), e);
            }
        }
        v
    }

    /// `base` with every variable of `overrides` replacing or adding to
    /// it: how one tenant (a VPC) sets its own `HOME_NET` over the
    /// sensor's variables. Variables that refer to overridden ones follow
    /// them, since references resolve late.
    pub fn with_overrides(base: &Vars, overrides: &Vars) -> Vars {
        let mut v = base.clone();
        v.address.extend(
            overrides
                .address
                .iter()
                .map(|(k, e)| (k.clone(), e.clone())),
        );
        v.port
            .extend(overrides.port.iter().map(|(k, e)| (k.clone(), e.clone())));
        v
    }

    /// Sets address variable `name` (without `$`) to the expression
    /// `value`, replacing any earlier value.
    ///
    /// # Errors
    ///
    /// An invalid name, or [`ExprError::Syntax`] (wrapped in
    /// [`ExprError::InVariable`]) for an invalid value. References to
    /// other variables are checked only when resolved (see
    /// [`Vars::check`]).
    pub fn set_address(&mut self, name: &str, value: &str) -> Result<(), ExprError> {
        check_name(name, ExprKind::Address)?;
        let e = AddrExpr::parse(value).map_err(|e| wrap(name, e))?;
        self.address.insert(name.to_string(), e);
        Ok(())
    }

    /// Sets port variable `name` (without `$`) to the expression `value`.
    ///
    /// # Errors
    ///
    /// As [`Vars::set_address`].
    pub fn set_port(&mut self, name: &str, value: &str) -> Result<(), ExprError> {
        check_name(name, ExprKind::Port)?;
        let e = PortExpr::parse(value).map_err(|e| wrap(name, e))?;
        self.port.insert(name.to_string(), e);
        Ok(())
    }

    /// The parsed value of address variable `name` (without `$`).
    pub fn address(&self, name: &str) -> Option<&AddrExpr> {
        self.address.get(name)
    }

    /// The parsed value of port variable `name` (without `$`).
    pub fn port(&self, name: &str) -> Option<&PortExpr> {
        self.port.get(name)
    }

    /// Address variables, by name.
    pub fn addresses(&self) -> impl Iterator<Item = (&str, &AddrExpr)> {
        self.address.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Port variables, by name.
    pub fn ports(&self) -> impl Iterator<Item = (&str, &PortExpr)> {
        self.port.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Resolves every variable, as Suricata does at start-up
    /// (`DetectAddressTestConfVars`, `DetectPortTestConfVars`), and returns
    /// the failures, each naming its variable.
    pub fn check(&self) -> Vec<ExprError> {
        let mut errors = Vec::new();
        for (name, e) in &self.address {
            if let Err(err) = e.resolve(self) {
                errors.push(wrap(name, err));
            }
        }
        for (name, e) in &self.port {
            if let Err(err) = e.resolve(self) {
                errors.push(wrap(name, err));
            }
        }
        errors
    }
}

fn wrap(name: &str, e: ExprError) -> ExprError {
    match e {
        ExprError::InVariable { .. } => e,
        other => ExprError::InVariable {
            name: name.to_string(),
            error: Box::new(other),
        },
    }
}

fn check_name(name: &str, kind: ExprKind) -> Result<(), ExprError> {
    let ok = !name.is_empty()
        && name.len() <= 256
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(crate::expr::syntax(
            kind,
            format!("invalid variable name {}", crate::error::quote(name)),
        ))
    }
}

/// Walks variable references for one resolution: detects cycles, caps
/// depth and total work.
pub(crate) struct Resolver<'v> {
    vars: &'v Vars,
    kind: ExprKind,
    stack: Vec<&'v str>,
    items: usize,
}

impl<'v> Resolver<'v> {
    pub(crate) fn new(vars: &'v Vars, kind: ExprKind) -> Resolver<'v> {
        Resolver {
            vars,
            kind,
            stack: Vec::new(),
            items: 0,
        }
    }

    /// Counts one visited item against [`MAX_EXPANDED_ITEMS`].
    pub(crate) fn count_item(&mut self) -> Result<(), ExprError> {
        self.items += 1;
        if self.items > MAX_EXPANDED_ITEMS {
            return Err(ExprError::TooLarge { kind: self.kind });
        }
        Ok(())
    }

    fn enter(&mut self, name: &str) -> Result<(), ExprError> {
        if self.stack.contains(&name) {
            return Err(ExprError::Cycle {
                kind: self.kind,
                name: name.to_string(),
            });
        }
        if self.stack.len() >= MAX_VAR_DEPTH {
            return Err(ExprError::TooDeep { kind: self.kind });
        }
        Ok(())
    }

    fn undefined(&self, name: &str) -> ExprError {
        ExprError::UndefinedVariable {
            kind: self.kind,
            name: name.to_string(),
        }
    }

    /// Looks up address variable `name` and pushes it on the stack; the
    /// caller must [`Resolver::leave`] after resolving the value.
    pub(crate) fn enter_address(&mut self, name: &str) -> Result<&'v AddrExpr, ExprError> {
        self.enter(name)?;
        let vars = self.vars;
        let (key, value) = vars
            .address
            .get_key_value(name)
            .ok_or_else(|| self.undefined(name))?;
        self.stack.push(key);
        Ok(value)
    }

    /// As [`Resolver::enter_address`], for a port variable.
    pub(crate) fn enter_port(&mut self, name: &str) -> Result<&'v PortExpr, ExprError> {
        self.enter(name)?;
        let vars = self.vars;
        let (key, value) = vars
            .port
            .get_key_value(name)
            .ok_or_else(|| self.undefined(name))?;
        self.stack.push(key);
        Ok(value)
    }

    pub(crate) fn leave(&mut self) {
        self.stack.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_resolve() {
        assert_eq!(SURICATA_ADDRESS_GROUPS.len(), 15);
        assert_eq!(SURICATA_PORT_GROUPS.len(), 11);
        let v = Vars::suricata_defaults();
        assert_eq!(v.addresses().count(), SURICATA_ADDRESS_GROUPS.len());
        assert_eq!(v.ports().count(), SURICATA_PORT_GROUPS.len());
        assert_eq!(v.check(), vec![]);
    }

    #[test]
    fn overrides_replace_and_follow() {
        let base = Vars::suricata_defaults();
        let mut o = Vars::new();
        o.set_address("HOME_NET", "10.1.0.0/16").unwrap();
        o.set_port("HTTP_PORTS", "[80,8080]").unwrap();
        let v = Vars::with_overrides(&base, &o);
        let servers = AddrExpr::parse("$HTTP_SERVERS")
            .unwrap()
            .resolve(&v)
            .unwrap();
        assert!(servers.contains("10.1.2.3".parse().unwrap()));
        assert!(!servers.contains("10.2.0.1".parse().unwrap()));
        let fdp = PortExpr::parse("$FILE_DATA_PORTS")
            .unwrap()
            .resolve(&v)
            .unwrap();
        assert!(fdp.contains(8080) && fdp.contains(143));
        // The base is untouched.
        let servers = AddrExpr::parse("$HTTP_SERVERS")
            .unwrap()
            .resolve(&base)
            .unwrap();
        assert!(servers.contains("10.2.0.1".parse().unwrap()));
    }

    #[test]
    fn names_and_values_are_checked() {
        let mut v = Vars::new();
        assert!(v.set_address("BAD NAME", "any").is_err());
        assert!(v.set_address("", "any").is_err());
        let e = v.set_address("X", "[1.2.3.4").unwrap_err();
        assert!(e.to_string().starts_with("in $X: "), "{e}");
        v.set_address("A", "$B").unwrap();
        let errs = v.check();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].to_string(), "in $A: undefined address variable $B");
    }

    #[test]
    fn depth_and_size_are_bounded() {
        let mut v = Vars::new();
        for i in 0..MAX_VAR_DEPTH + 2 {
            v.set_port(&format!("P{i}"), &format!("$P{}", i + 1))
                .unwrap();
        }
        v.set_port(&format!("P{}", MAX_VAR_DEPTH + 2), "80")
            .unwrap();
        let e = PortExpr::parse("$P0").unwrap().resolve(&v).unwrap_err();
        assert_eq!(
            e,
            ExprError::TooDeep {
                kind: ExprKind::Port
            }
        );

        // Each level names the next twice: 2^30 items without the cap.
        let mut v = Vars::new();
        for i in 0..30 {
            v.set_address(&format!("A{i}"), &format!("[$A{n},$A{n}]", n = i + 1))
                .unwrap();
        }
        v.set_address("A30", "1.2.3.4").unwrap();
        let e = AddrExpr::parse("$A0").unwrap().resolve(&v).unwrap_err();
        assert_eq!(
            e,
            ExprError::TooLarge {
                kind: ExprKind::Address
            }
        );
    }
}
