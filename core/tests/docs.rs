//! The error codes are part of the API: each one is documented, the same way, where users look.

/// The rows `| `code` | kind | meaning |` of a Markdown table, by code.
fn rows(text: &str, prefix: &str) -> std::collections::BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.strip_prefix(prefix).unwrap_or(line).strip_prefix("| `Tscb."))
        .filter_map(|rest| rest.split_once("` |"))
        .map(|(code, row)| (format!("Tscb.{code}"), row.trim().to_owned()))
        .collect()
}

#[test]
fn every_code_is_documented_alike_in_the_crate_docs_and_the_readme() {
    let lib = rows(include_str!("../src/lib.rs"), "//! ");
    let readme = rows(include_str!("../../README.md"), "");
    for code in tscb::codes::ALL {
        let in_lib = lib.get(*code).unwrap_or_else(|| panic!("{code} is missing from the crate docs"));
        let in_readme = readme.get(*code).unwrap_or_else(|| panic!("{code} is missing from README.md"));
        assert_eq!(in_lib, in_readme, "{code} is documented differently");
    }
    assert_eq!(lib.len(), tscb::codes::ALL.len(), "the crate docs list a code that does not exist");
    assert_eq!(readme.len(), tscb::codes::ALL.len(), "README.md lists a code that does not exist");
}
