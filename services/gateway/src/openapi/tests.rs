//! The committed document matches the code, and the examples in it validate against its schemas.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{document, pretty};

#[test]
fn committed_openapi_matches_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas/openapi.json");
    let content = pretty();
    if std::env::var_os("RCN_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &content).expect("write schemas/openapi.json");
    }
    assert!(
        std::fs::read_to_string(&path).ok().as_deref() == Some(content.as_str()),
        "schemas/openapi.json is out of date; run RCN_UPDATE_SCHEMAS=1 cargo test -p rcn-gateway"
    );
}

#[test]
fn the_document_names_every_partner_operation_with_its_problems() {
    let doc = document();
    assert_eq!(doc["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    assert_eq!(doc["info"]["version"], crate::API_VERSION);
    let post = &doc["paths"]["/release-notices"]["post"];
    for status in ["202", "400", "401", "403", "409", "413", "415", "503"] {
        assert!(post["responses"][status].is_object(), "POST lacks {status}");
    }
    let get = &doc["paths"]["/release-notices/{notice_id}"]["get"];
    for status in ["200", "401", "404"] {
        assert!(get["responses"][status].is_object(), "GET lacks {status}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["partnerToken"]["scheme"],
        "bearer"
    );
    assert_eq!(post["security"], json!([{"partnerToken": []}]));
    // No reference points nowhere.
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        assert!(resolve(&doc, &r).is_some(), "dangling $ref {r}");
    }
}

#[test]
fn every_operation_documents_the_trace_context_it_takes_and_answers() {
    let doc = document();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            operations += 1;
            let parameters = operation["parameters"].as_array().expect("parameters");
            for name in ["traceparent", "tracestate"] {
                let parameter = parameters
                    .iter()
                    .find(|p| p["name"] == name && p["in"] == "header")
                    .unwrap_or_else(|| panic!("{method} {path} lacks the {name} header"));
                assert_eq!(parameter["required"], false, "{method} {path} {name}");
            }
            let responses = operation["responses"].as_object().expect("responses");
            assert!(!responses.is_empty());
            for (status, response) in responses {
                assert!(
                    response["headers"]["traceresponse"]["schema"]["pattern"].is_string(),
                    "{method} {path} {status} lacks traceresponse"
                );
            }
        }
    }
    assert!(operations >= 2, "the walk saw the operations: {operations}");
}

#[test]
fn the_documented_traceparent_pattern_is_the_one_the_gateway_parses() {
    use rcn_runtime::trace_context::TraceParent;
    let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let refused = [
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
    ];
    let pattern = regex::Regex::new(rcn_contracts::trace_context::TRACEPARENT_PATTERN)
        .expect("a valid regex");
    assert!(pattern.is_match(valid));
    assert!(TraceParent::parse(valid).is_ok());
    for value in refused {
        assert!(!pattern.is_match(value), "{value}");
        assert!(TraceParent::parse(value).is_err(), "{value}");
    }
}

#[test]
fn the_example_notice_validates_against_the_documented_schema() {
    let doc = document();
    let example = &doc["paths"]["/release-notices"]["post"]["requestBody"]["content"]["application/json"]
        ["example"];
    assert_eq!(example, &rcn_contracts::examples::release_notice_json());
    let schema = json!({"$ref": "#/components/schemas/ReleaseNotice"});
    let errors = validate(&doc, &schema, example, "");
    assert!(errors.is_empty(), "{errors:#?}");
    // The example is also what the code accepts.
    let notice: rcn_contracts::ReleaseNotice =
        serde_json::from_value(example.clone()).expect("the example parses");
    assert_eq!(notice.notice_id, "PIH-2026-000123");

    let receipt = &doc["paths"]["/release-notices"]["post"]["responses"]["202"]["content"]["application/json"]
        ["example"];
    let errors = validate(
        &doc,
        &json!({"$ref": "#/components/schemas/Receipt"}),
        receipt,
        "",
    );
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn the_document_follows_the_api_design_rules_the_linter_checks() {
    let doc = document();
    // /core/uri-version: the major version in the server URL, paths relative to it.
    assert_eq!(doc["servers"][0]["url"], "/v1");
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert_eq!(paths, ["/release-notices", "/release-notices/{notice_id}"]);
    // /core/doc-openapi-contact
    for field in ["name", "email", "url"] {
        assert!(
            doc["info"]["contact"][field]
                .as_str()
                .is_some_and(|v| !v.is_empty()),
            "info.contact.{field}"
        );
    }
    // /core/version-header: on every response of every operation.
    let mut responses = 0;
    for item in doc["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                responses += 1;
                assert!(
                    response["headers"]["API-Version"].is_object(),
                    "{status} lacks API-Version"
                );
            }
        }
    }
    assert!(responses >= 10);
}

#[test]
fn the_documented_limits_are_the_ones_the_code_checks() {
    use rcn_contracts::notice as n;
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let notice = &schemas["ReleaseNotice"]["properties"];
    assert_eq!(notice["notice_id"]["maxLength"], n::NOTICE_ID_MAX);
    assert_eq!(notice["notice_id"]["pattern"], n::NOTICE_ID_PATTERN);
    assert_eq!(notice["risk_flags"]["uniqueItems"], true);
    let param = &doc["paths"]["/release-notices/{notice_id}"]["get"]["parameters"][0];
    assert_eq!(param["schema"]["maxLength"], n::NOTICE_ID_MAX);
    assert_eq!(param["schema"]["pattern"], n::NOTICE_ID_PATTERN);
    let address = &schemas["Address"]["properties"];
    assert_eq!(address["house_number"]["minimum"], 1);
    assert_eq!(address["house_number"]["maximum"], n::HOUSE_NUMBER_MAX);
    assert_eq!(address["city"]["maxLength"], n::CITY_MAX);
    let contact = &schemas["Contact"]["properties"];
    assert_eq!(contact["phone"]["maxLength"], n::PHONE_MAX);
    assert_eq!(contact["email"]["maxLength"], n::EMAIL_MAX);
    assert_eq!(contact["name"]["maxLength"], n::CONTACT_NAME_MAX);
    let person = &schemas["Person"]["properties"];
    assert_eq!(person["family_name"]["maxLength"], n::FAMILY_NAME_MAX);
    assert_eq!(person["given_names"]["maxLength"], n::GIVEN_NAMES_MAX);
    let sender = &schemas["Sender"]["properties"];
    assert_eq!(
        sender["institution_code"]["maxLength"],
        n::INSTITUTION_CODE_MAX
    );
}

/// A change to a notice, for a table of cases.
type Edit = fn(&mut Value);

/// What the schema allows, the code accepts: a notice at every documented limit is valid, and
/// one step past a limit is refused by both.
#[test]
fn a_notice_at_the_documented_limits_is_accepted_and_one_past_them_is_refused() {
    use rcn_contracts::notice as n;
    let doc = document();
    let schema = json!({"$ref": "#/components/schemas/ReleaseNotice"});
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut at_limits = rcn_contracts::examples::release_notice_json();
    at_limits["notice_id"] = "a".repeat(n::NOTICE_ID_MAX).into();
    at_limits["sender"]["institution_code"] = "PI-HAARLEM".into();
    at_limits["sender"]["institution_name"] = "é".repeat(n::INSTITUTION_NAME_MAX).into();
    at_limits["sender"]["contact"] = json!({
        "name": "n".repeat(n::CONTACT_NAME_MAX),
        "phone": "1".repeat(n::PHONE_MAX),
        "email": format!("a@{}", "b".repeat(n::EMAIL_MAX - 2)),
    });
    at_limits["person"]["family_name"] = "f".repeat(n::FAMILY_NAME_MAX).into();
    at_limits["person"]["address"] = json!({
        "postcode": "2011AB", "house_number": n::HOUSE_NUMBER_MAX, "house_letter": "z",
        "addition": "a".repeat(n::ADDITION_MAX), "city": "c".repeat(n::CITY_MAX),
    });
    assert_eq!(
        validate(&doc, &schema, &at_limits, ""),
        Vec::<String>::new()
    );
    let notice = rcn_contracts::ReleaseNotice::from_json(&serde_json::to_vec(&at_limits).unwrap())
        .expect("parses");
    assert_eq!(notice.problems(today), vec![]);

    let past: [(&str, Edit); 5] = [
        ("notice_id", |v| {
            v["notice_id"] = "a".repeat(n::NOTICE_ID_MAX + 1).into()
        }),
        ("person.address.house_number", |v| {
            v["person"]["address"]["house_number"] = (n::HOUSE_NUMBER_MAX + 1).into()
        }),
        ("person.address.city", |v| {
            v["person"]["address"]["city"] = "c".repeat(n::CITY_MAX + 1).into()
        }),
        ("sender.contact.phone", |v| {
            v["sender"]["contact"]["phone"] = "1".repeat(n::PHONE_MAX + 1).into()
        }),
        ("notice_id", |v| v["notice_id"] = "a/b".into()),
    ];
    for (path, edit) in past {
        let mut v = at_limits.clone();
        edit(&mut v);
        assert!(
            !validate(&doc, &schema, &v, "").is_empty(),
            "the schema allows {path}"
        );
        let notice = rcn_contracts::ReleaseNotice::from_json(&serde_json::to_vec(&v).unwrap())
            .expect("parses");
        assert!(
            notice.problems(today).iter().any(|p| p.path == path),
            "the code allows {path}"
        );
    }
}

#[test]
fn the_validator_used_above_does_catch_broken_notices() {
    let doc = document();
    let schema = json!({"$ref": "#/components/schemas/ReleaseNotice"});
    let mut missing = rcn_contracts::examples::release_notice_json();
    missing["person"]
        .as_object_mut()
        .expect("an object")
        .remove("family_name");
    assert_eq!(
        validate(&doc, &schema, &missing, ""),
        ["person: family_name is required"]
    );
    let mut unknown_kind = rcn_contracts::examples::release_notice_json();
    unknown_kind["kind"] = "released".into();
    assert!(!validate(&doc, &schema, &unknown_kind, "").is_empty());
    let mut extra = rcn_contracts::examples::release_notice_json();
    extra["detention"]["colour"] = "red".into();
    assert_eq!(
        validate(&doc, &schema, &extra, ""),
        ["detention: colour is not allowed"]
    );
}

/// The few patterns the contract uses, checked without a regex engine: a character class with
/// `+` anchored at both ends (`^[A-Za-z0-9_.:-]+$`), one letter (`^[A-Za-z]$`), a plain
/// substring (`@`), and the value types' own patterns (left to their parsers).
fn matches_pattern(pattern: &str, s: &str) -> bool {
    let in_class = |class: &str, c: char| {
        let b: Vec<char> = class.chars().collect();
        let mut i = 0;
        while i < b.len() {
            if i + 2 < b.len() && b[i + 1] == '-' {
                if (b[i]..=b[i + 2]).contains(&c) {
                    return true;
                }
                i += 3;
            } else {
                if b[i] == c {
                    return true;
                }
                i += 1;
            }
        }
        false
    };
    if let Some(class) = pattern
        .strip_prefix("^[")
        .and_then(|p| p.strip_suffix("]+$"))
    {
        return !s.is_empty() && s.chars().all(|c| in_class(class, c));
    }
    if let Some(class) = pattern
        .strip_prefix("^[")
        .and_then(|p| p.strip_suffix("]$"))
    {
        return s.chars().count() == 1 && s.chars().all(|c| in_class(class, c));
    }
    if !pattern.contains(['^', '[', '$']) {
        return s.contains(pattern);
    }
    true
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match (k.as_str(), child) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

fn resolve<'a>(doc: &'a Value, r: &str) -> Option<&'a Value> {
    doc.pointer(r.strip_prefix('#')?).filter(|v| !v.is_null())
}

/// A small JSON Schema checker for what schemars emits (enough to prove the example fits):
/// `$ref`, `type`, `required`, `properties`, `additionalProperties: false`, `enum`, `const`,
/// `items`, `oneOf` / `anyOf`, string length limits.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        match resolve(doc, r) {
            Some(target) => errors.extend(validate(doc, target, value, at)),
            None => errors.push(format!("{at}: dangling {r}")),
        }
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = types.iter().any(|t| match *t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        });
        if !fits {
            errors.push(format!("{at}: expected {types:?}, found {value}"));
            return errors;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {options:?}"));
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        errors.push(format!("{at}: {value} is not {c}"));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let fitting = options
                .iter()
                .filter(|o| validate(doc, o, value, at).is_empty())
                .count();
            if fitting == 0 || (key == "oneOf" && fitting > 1) {
                errors.push(format!("{at}: fits {fitting} of the {key} options"));
            }
        }
    }
    if let (Some(s), Some(max)) = (
        value.as_str(),
        schema.get("maxLength").and_then(Value::as_u64),
    ) && s.chars().count() as u64 > max
    {
        errors.push(format!("{at}: longer than {max}"));
    }
    if let (Some(s), Some(min)) = (
        value.as_str(),
        schema.get("minLength").and_then(Value::as_u64),
    ) && (s.chars().count() as u64) < min
    {
        errors.push(format!("{at}: shorter than {min}"));
    }
    if let (Some(s), Some(pattern)) = (
        value.as_str(),
        schema.get("pattern").and_then(Value::as_str),
    ) && !matches_pattern(pattern, s)
    {
        errors.push(format!("{at}: does not match {pattern}"));
    }
    if let (Some(n), Some(max)) = (
        value.as_f64(),
        schema.get("maximum").and_then(Value::as_f64),
    ) && n > max
    {
        errors.push(format!("{at}: above {max}"));
    }
    if let (Some(n), Some(min)) = (
        value.as_f64(),
        schema.get("minimum").and_then(Value::as_f64),
    ) && n < min
    {
        errors.push(format!("{at}: below {min}"));
    }
    if let Value::Object(fields) = value {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !fields.contains_key(name) {
                errors.push(format!("{at}: {name} is required"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, field) in fields {
            let path = if at.is_empty() {
                name.clone()
            } else {
                format!("{at}.{name}")
            };
            match properties.and_then(|p| p.get(name)) {
                Some(s) => errors.extend(validate(doc, s, field, &path)),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{at}: {name} is not allowed"));
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            errors.extend(validate(doc, item_schema, item, &format!("{at}[{i}]")));
        }
    }
    errors
}

#[test]
fn asyncapi_refers_only_to_committed_schemas_and_names_the_intake_subjects() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    let doc = std::fs::read_to_string(dir.join("asyncapi.yaml")).expect("schemas/asyncapi.yaml");
    let files: Vec<&str> = doc
        .split('\'')
        .filter(|s| s.ends_with(".v1.json"))
        .collect();
    for wanted in [
        "release-notice.v1.json",
        "intake-submit-reply.v1.json",
        "intake-status-reply.v1.json",
        "notice-routed.v1.json",
    ] {
        assert!(
            files.contains(&wanted),
            "asyncapi.yaml does not refer to {wanted}"
        );
    }
    for file in files {
        assert!(
            dir.join(file).is_file(),
            "asyncapi.yaml refers to {file}, which is not in schemas/"
        );
    }
    let s = rcn_contracts::Region::parse("region")
        .expect("valid")
        .subjects();
    for subject in [
        s.intake_submit(),
        s.intake_submit_for("{institution_code}"),
        s.intake_status(),
        s.notice_accepted(),
        s.unroutable(),
    ] {
        let templated = subject.replacen("region", "{region}", 1);
        assert!(
            doc.contains(&format!("address: {templated}\n")),
            "asyncapi.yaml lacks {templated}"
        );
    }
}
