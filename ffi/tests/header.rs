//! include/tscb.h is generated from this crate and committed; it must match what the code
//! generates now. `make header` (TSCB_UPDATE_HEADER=1) rewrites it.

use std::path::Path;

/// The library's own error codes, from the one list in `tscb::codes::TABLE`, as a comment at
/// the end of the header: what `tscb_error_code()` can return besides the service's codes.
fn codes_comment() -> String {
    let mut text = String::from(
        "/*\n * The library's own error codes (tscb_error_code() returns these, or the service's own),\n \
         * with the kind of error (tscb_result) each comes with. They never change meaning.\n *\n",
    );
    for info in tscb::codes::TABLE {
        text.push_str(&format!(" *  {}\n *      {}: {}\n", info.code, info.kind, info.meaning));
    }
    text.push_str(" */");
    text
}

#[test]
fn committed_header_matches_the_code() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    config.trailer = Some(codes_comment());
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).expect("UTF-8 header");

    let path = crate_dir.join("../include/tscb.h");
    if std::env::var_os("TSCB_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write include/tscb.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/tscb.h is out of date with ffi/: run `make header` and commit the result"
    );
}
