//! The error codes are part of the API: each one is documented where users look.

#[test]
fn every_code_is_documented_in_the_crate_docs_and_the_readme() {
    let lib = include_str!("../src/lib.rs");
    let readme = include_str!("../../README.md");
    for code in tscb::codes::ALL {
        assert!(lib.contains(&format!("`{code}`")), "{code} is missing from the crate docs");
        assert!(readme.contains(&format!("`{code}`")), "{code} is missing from README.md");
    }
}
