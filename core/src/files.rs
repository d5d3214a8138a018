//! Reading a file that a user named (a CA or PEM file, a fleet file, the login guard): bounded,
//! so that a wrong path (`/dev/zero`, a FIFO, a log that grew to gigabytes) gives a clear error
//! naming the file instead of an out-of-memory abort or a read that never ends.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The most a PEM file (certificate chain, key) or CA file may hold: a bundle of every public
/// CA is about 250 KiB.
pub const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// Whether a symbolic link at the path itself is followed. Certificates usually are links
/// (certbot's `live/` directory); a file the library writes beside its reads (the login guard)
/// must not be, so that a planted link cannot redirect it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Links {
    Follow,
    Refuse,
}

/// The contents of the regular file at `path`, at most `limit` bytes. Anything else (a
/// directory, a device, a FIFO, a socket, a link with [`Links::Refuse`]) or a larger file is an
/// error whose text says what is wrong, for the caller to put after the file's name. Opening
/// never blocks (`O_NONBLOCK`: a FIFO with no writer would), and the limit holds even for a
/// file that grows while it is read.
pub fn read_bounded(path: &Path, limit: u64, links: Links) -> io::Result<Vec<u8>> {
    let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
    if links == Links::Refuse {
        flags |= libc::O_NOFOLLOW;
    }
    let file = fs::OpenOptions::new().read(true).custom_flags(flags).open(path).map_err(|e| {
        if links == Links::Refuse && e.raw_os_error() == Some(libc::ELOOP) {
            io::Error::new(io::ErrorKind::InvalidInput, "it is a symbolic link, which is not followed here")
        } else {
            e
        }
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is not a regular file ({})", kind(&meta)),
        ));
    }
    if meta.len() > limit {
        return Err(too_large(limit));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

fn too_large(limit: u64) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("it is larger than {} the limit", size(limit)))
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 && b % (1024 * 1024) == 0 => format!("{} MiB,", b / (1024 * 1024)),
        b if b >= 1024 && b % 1024 == 0 => format!("{} KiB,", b / 1024),
        b => format!("{b} bytes,"),
    }
}

fn kind(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(path: &Path, limit: u64, links: Links) -> String {
        read_bounded(path, limit, links).unwrap_err().to_string()
    }

    #[test]
    fn devices_fifos_directories_and_large_files_are_refused_with_a_reason() {
        let dir = std::env::temp_dir().join(format!("tscb-files-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        assert!(error(Path::new("/dev/zero"), MAX_PEM_BYTES, Links::Follow).contains("character device"));
        assert!(error(&dir, MAX_PEM_BYTES, Links::Follow).contains("a directory"));
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(error(&fifo, MAX_PEM_BYTES, Links::Follow).contains("a FIFO"), "a FIFO without writer");
        let big = dir.join("big");
        fs::write(&big, vec![b'x'; 2049]).unwrap();
        assert_eq!(error(&big, 2048, Links::Follow), "it is larger than 2 KiB, the limit");
        assert_eq!(read_bounded(&big, 2049, Links::Follow).unwrap().len(), 2049);
        let link = dir.join("link");
        std::os::unix::fs::symlink(&big, &link).unwrap();
        assert_eq!(read_bounded(&link, 4096, Links::Follow).unwrap().len(), 2049);
        assert!(error(&link, 4096, Links::Refuse).contains("symbolic link"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
