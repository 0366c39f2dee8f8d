//! Hunts EVTX files with Sigma rules through the `sigma-rust` evaluator, so
//! that `scripts/bench-peers` can time a compiled Rust peer built from
//! crates.io.
//!
//! The records are parsed by the `evtx` crate on one thread (the parser
//! Chainsaw uses and Hayabusa forked), flattened to Sigma's Windows field
//! names (`EventID`, `Channel`, every `EventData` name) and checked against
//! every Windows rule whose channel matches. The routing from a rule's
//! logsource to a channel and event id is the small table in [`route`]:
//! process_creation is Sysmon event 1 (as pySigma's sysmon pipeline maps
//! it, so Security 4688 events are not checked), and the PowerShell
//! categories are script block (4104), module (4103) and classic engine
//! start (400) events. Rules whose logsource is not in the table are
//! checked against every event.
//!
//! Usage: `sigma-rust-hunt [--counts FILE] RULES_DIR FILE.evtx...`. It
//! prints one JSON object with the counts on standard output.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use evtx::{EvtxParser, ParserSettings};
use serde_json::{json, Map, Value};
use sigma_rust::{rule_from_yaml, Event, Rule};

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
const POWERSHELL: &str = "Microsoft-Windows-PowerShell/Operational";
const POWERSHELL_CLASSIC: &str = "Windows PowerShell";

/// A rule with the channel and event id that its logsource requires.
struct RoutedRule {
    rule: Rule,
    event_id: Option<i64>,
    matches: u64,
}

/// Returns the channel and, for generic categories, the event id that a
/// rule's logsource requires, or None for a logsource outside the table.
fn route(rule: &Rule) -> Option<(&'static str, Option<i64>)> {
    let logsource = &rule.logsource;
    match (logsource.category.as_deref(), logsource.service.as_deref()) {
        (Some("process_creation"), _) => Some((SYSMON, Some(1))),
        (Some("ps_script"), _) => Some((POWERSHELL, Some(4104))),
        (Some("ps_module"), _) => Some((POWERSHELL, Some(4103))),
        (Some("ps_classic_start"), _) => Some((POWERSHELL_CLASSIC, Some(400))),
        (_, Some("security")) => Some(("Security", None)),
        (_, Some("system")) => Some(("System", None)),
        (_, Some("powershell-classic")) => Some((POWERSHELL_CLASSIC, None)),
        _ => None,
    }
}

/// Collects the .yml and .yaml files below a folder, sorted.
fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|entry| entry.path());
    for entry in entries {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            rule_files(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// Rules indexed by channel, plus the rules checked against every event.
struct Rules {
    by_channel: HashMap<&'static str, Vec<RoutedRule>>,
    everywhere: Vec<RoutedRule>,
    loaded: usize,
    not_windows: usize,
    failed: usize,
}

/// Parses every rule file below `dir` and keeps the Windows rules. A file
/// that sigma-rust rejects is counted in `failed` and named on standard error.
fn load_rules(dir: &Path) -> Result<Rules, String> {
    let mut paths = Vec::new();
    rule_files(dir, &mut paths)
        .map_err(|err| format!("read rules folder {}: {err}", dir.display()))?;
    let mut rules = Rules {
        by_channel: HashMap::new(),
        everywhere: Vec::new(),
        loaded: 0,
        not_windows: 0,
        failed: 0,
    };
    for path in paths {
        let text = fs::read_to_string(&path)
            .map_err(|err| format!("read rule {}: {err}", path.display()))?;
        let rule = match rule_from_yaml(&text) {
            Ok(rule) => rule,
            Err(err) => {
                eprintln!("rule {} rejected by sigma-rust: {err}", path.display());
                rules.failed += 1;
                continue;
            }
        };
        if rule.logsource.product.as_deref() != Some("windows") {
            rules.not_windows += 1;
            continue;
        }
        rules.loaded += 1;
        match route(&rule) {
            Some((channel, event_id)) => {
                rules
                    .by_channel
                    .entry(channel)
                    .or_default()
                    .push(RoutedRule {
                        rule,
                        event_id,
                        matches: 0,
                    })
            }
            None => rules.everywhere.push(RoutedRule {
                rule,
                event_id: None,
                matches: 0,
            }),
        }
    }
    Ok(rules)
}

/// Inserts the scalar fields of an object, taking `#text` from an element
/// with attributes and leaving out attributes and deeper nesting.
fn insert_scalars(out: &mut Map<String, Value>, fields: Map<String, Value>) {
    for (name, value) in fields {
        if name == "#attributes" {
            continue;
        }
        match value {
            Value::Object(mut element) => {
                if let Some(text) = element.remove("#text") {
                    out.insert(name, text);
                }
            }
            Value::Null => {}
            value => {
                out.insert(name, value);
            }
        }
    }
}

/// Flattens one record's JSON to Sigma's Windows field names and returns
/// the event with its channel and event id.
fn flatten(record: Value) -> Option<(String, i64, Event)> {
    let Value::Object(mut root) = record else {
        return None;
    };
    let Some(Value::Object(mut event)) = root.remove("Event") else {
        return None;
    };
    let mut fields = Map::new();
    if let Some(Value::Object(mut system)) = event.remove("System") {
        if let Some(name) = system
            .get("Provider")
            .and_then(|provider| provider.pointer("/#attributes/Name"))
            .cloned()
        {
            fields.insert("Provider_Name".to_string(), name);
        }
        system.remove("Provider");
        system.remove("TimeCreated");
        insert_scalars(&mut fields, system);
    }
    if let Some(Value::Object(data)) = event.remove("EventData") {
        insert_scalars(&mut fields, data);
    }
    // UserData contains one element named after the event, with the fields inside.
    if let Some(Value::Object(user_data)) = event.remove("UserData") {
        for (_, inner) in user_data {
            if let Value::Object(inner) = inner {
                insert_scalars(&mut fields, inner);
            }
        }
    }
    let channel = fields
        .get("Channel")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let event_id = fields.get("EventID").and_then(Value::as_i64).unwrap_or(-1);
    let event = Event::try_from(Value::Object(fields)).ok()?;
    Some((channel, event_id, event))
}

/// Checks the event against the rules, skipping rules that require another
/// event id, and returns how many matched.
fn check(rules: &mut [RoutedRule], event_id: i64, event: &Event) -> u64 {
    let mut detections = 0;
    for routed in rules {
        if routed.event_id.is_some_and(|id| id != event_id) {
            continue;
        }
        if routed.rule.is_match(event) {
            routed.matches += 1;
            detections += 1;
        }
    }
    detections
}

fn run(args: &[String]) -> Result<Value, String> {
    let mut args = args.iter();
    let mut counts_path = None;
    let mut rules_dir = None;
    let mut files = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--counts" => {
                counts_path = Some(args.next().ok_or("--counts needs a file name")?.clone())
            }
            _ if rules_dir.is_none() => rules_dir = Some(PathBuf::from(arg)),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    let rules_dir = rules_dir.ok_or(
        "missing RULES_DIR; usage: sigma-rust-hunt [--counts FILE] RULES_DIR FILE.evtx...",
    )?;
    if files.is_empty() {
        return Err(
            "missing EVTX files; usage: sigma-rust-hunt [--counts FILE] RULES_DIR FILE.evtx..."
                .to_string(),
        );
    }

    let mut rules = load_rules(&rules_dir)?;
    let settings = ParserSettings::new();
    let (mut events, mut failed, mut unmapped, mut detections) = (0u64, 0u64, 0u64, 0u64);
    for path in &files {
        let mut parser = EvtxParser::from_path(path)
            .map_err(|err| format!("open {}: {err}", path.display()))?
            .with_configuration(settings.clone());
        for record in parser.records_json_value() {
            let Ok(record) = record else {
                failed += 1;
                continue;
            };
            events += 1;
            let Some((channel, event_id, event)) = flatten(record.data) else {
                unmapped += 1;
                continue;
            };
            if let Some(routed) = rules.by_channel.get_mut(channel.as_str()) {
                detections += check(routed, event_id, &event);
            }
            detections += check(&mut rules.everywhere, event_id, &event);
        }
    }

    let all = rules
        .by_channel
        .values()
        .flatten()
        .chain(rules.everywhere.iter());
    let matched: Vec<&RoutedRule> = all.filter(|routed| routed.matches > 0).collect();
    if let Some(counts_path) = counts_path {
        let mut out =
            fs::File::create(&counts_path).map_err(|err| format!("create {counts_path}: {err}"))?;
        for routed in &matched {
            let id = routed.rule.id.as_deref().unwrap_or_default();
            writeln!(out, "{id}\t{}\t{}", routed.matches, routed.rule.title)
                .map_err(|err| format!("write {counts_path}: {err}"))?;
        }
    }
    Ok(json!({
        "events": events,
        "records_failed": failed,
        "events_unmapped": unmapped,
        "rules": rules.loaded,
        "rules_rejected": rules.failed,
        "rules_not_windows": rules.not_windows,
        "rules_everywhere": rules.everywhere.len(),
        "rules_matched": matched.len(),
        "detections": detections,
    }))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("sigma-rust-hunt: {err}");
            ExitCode::FAILURE
        }
    }
}
