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
    let post = &doc["paths"]["/v1/release-notices"]["post"];
    for status in ["202", "400", "401", "403", "409", "413", "415", "503"] {
        assert!(post["responses"][status].is_object(), "POST lacks {status}");
    }
    let get = &doc["paths"]["/v1/release-notices/{notice_id}"]["get"];
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
fn the_example_notice_validates_against_the_documented_schema() {
    let doc = document();
    let example = &doc["paths"]["/v1/release-notices"]["post"]["requestBody"]["content"]["application/json"]
        ["example"];
    assert_eq!(example, &rcn_contracts::examples::release_notice_json());
    let schema = json!({"$ref": "#/components/schemas/ReleaseNotice"});
    let errors = validate(&doc, &schema, example, "");
    assert!(errors.is_empty(), "{errors:#?}");
    // The example is also what the code accepts.
    let notice: rcn_contracts::ReleaseNotice =
        serde_json::from_value(example.clone()).expect("the example parses");
    assert_eq!(notice.notice_id, "PIH-2026-000123");

    let receipt = &doc["paths"]["/v1/release-notices"]["post"]["responses"]["202"]["content"]["application/json"]
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
