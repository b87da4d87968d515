//! The anomaly detectors' setup from the configuration: which run, with
//! which settings per tenant, what `HOME_NET` each tenant has, and which
//! sessions are declared bidirectional.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Result;
use mirador_config::Config;
use mirador_rules::Vars;
use mirador_runtime::detectors::DetectorSetup;

/// Networks, and networks by tenant name.
type Homes = (Vec<ipnet::IpNet>, BTreeMap<String, Vec<ipnet::IpNet>>);

/// `HOME_NET` of every configured tenant, and of the others (the `vars`
/// section over Suricata's defaults).
fn home_nets(config: &Config) -> Result<Homes> {
    let defaults = super::rules::vars_of(&Vars::suricata_defaults(), &config.vars, "vars")?;
    let home = |vars: &Vars| -> Vec<ipnet::IpNet> {
        vars.address("HOME_NET")
            .and_then(|e| e.resolve(vars).ok())
            .map(|s| s.to_ipnets())
            .unwrap_or_default()
    };
    let mut tenants = BTreeMap::new();
    for (name, t) in &config.tenants {
        let v = super::rules::vars_of(&defaults, &t.vars, &format!("tenants.{name}.vars"))?;
        tenants.insert(name.clone(), home(&v));
    }
    Ok((home(&defaults), tenants))
}

/// The detectors' setup, or `None` when `detectors.enabled` is off.
pub fn setup(config: &Config) -> Result<Option<DetectorSetup>> {
    if !config.detectors.enabled {
        return Ok(None);
    }
    let (default_home, tenant_home) = home_nets(config)?;
    let sessions: Vec<(Option<String>, Option<String>, bool)> = config
        .mirror
        .sessions
        .iter()
        .map(|s| (s.id.clone(), s.name.clone(), s.bidirectional))
        .collect();
    let built = Arc::new(config.clone());
    Ok(Some(DetectorSetup {
        build: Arc::new(move || mirador_runtime::detectors::build(&built)),
        home: Arc::new(move |tenant: &str| {
            tenant_home
                .get(tenant)
                .cloned()
                .unwrap_or_else(|| default_home.clone())
        }),
        bidirectional: Arc::new(move |label| {
            sessions.iter().any(|(id, name, bidi)| {
                *bidi
                    && ((id.is_some() && *id == label.session_id)
                        || (name.is_some() && *name == label.session_name))
            })
        }),
    }))
}
