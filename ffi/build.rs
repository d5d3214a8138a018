// Gives libtscb.so a SONAME, so that programs record `libtscb.so.0` and a compatible update of the
// library can replace the file without relinking them.
fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libtscb.so.{major}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
