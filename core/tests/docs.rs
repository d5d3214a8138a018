//! The error codes are part of the API: the README's table is the list in `tscb::codes::TABLE`,
//! row for row (the crate docs and the C header are generated from that list).

/// The rows `| `code` | kind | meaning |` of the README's table of the library's codes.
fn readme_rows() -> Vec<(String, String, String)> {
    include_str!("../../README.md")
        .lines()
        .filter_map(|line| line.strip_prefix("| `Tscb."))
        .filter_map(|rest| {
            let (code, rest) = rest.split_once("` | ")?;
            let (kind, meaning) = rest.strip_suffix(" |")?.split_once(" | ")?;
            Some((format!("Tscb.{code}"), kind.to_owned(), meaning.to_owned()))
        })
        .collect()
}

#[test]
fn the_readme_lists_every_code_as_the_library_does() {
    let expected: Vec<(String, String, String)> = tscb::codes::TABLE
        .iter()
        .map(|c| (c.code.to_owned(), c.kind.to_owned(), c.meaning.to_owned()))
        .collect();
    let readme = readme_rows();
    for (want, got) in expected.iter().zip(&readme) {
        assert_eq!(want, got, "README.md's row differs from tscb::codes::TABLE");
    }
    assert_eq!(readme.len(), expected.len(), "README.md lists a different number of codes");
}

#[test]
fn every_kind_named_in_the_table_exists() {
    let kinds = [
        "invalid_input",
        "api",
        "auth",
        "transport",
        "timeout",
        "invalid_response",
        "internal",
        "callback_rejected",
        "callback_invalid",
    ];
    for info in tscb::codes::TABLE {
        let named = info.kind.split([',', ' ']).filter(|w| kinds.contains(w)).count();
        assert!(named >= 1, "{}: unknown kind {:?}", info.code, info.kind);
    }
}
