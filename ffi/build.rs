// Gives libtscb.so a SONAME, so that programs record the ABI they were linked against and a
// compatible update of the library can replace the file without relinking them. Before 1.0 every
// minor version may break the ABI, so it is part of the name (`libtscb.so.0.1`), as cargo-c does;
// from 1.0 on, the major version alone (`libtscb.so.1`). The Makefile's SOVERSION says the same.
fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_else(|_| "0".into());
    let soversion = if major == "0" { format!("0.{minor}") } else { major };
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libtscb.so.{soversion}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
