//! For bench/listen.sh: a load generator for callback listeners, and the minimal listener that
//! `tscb listen` is compared with.
//!
//! `listen_bench minimal ADDR`: a hyper listener that reads each body and answers 200, no checks,
//! nothing written; prints `listening on http://ADDR/` on stderr.
//! `listen_bench load ADDR[,ADDR…] MESSAGES CONNECTIONS`: POSTs MESSAGES distinct callback
//! messages over CONNECTIONS keep-alive connections (spread over the addresses) and prints the
//! messages per second (every answer must be 200, or it fails).
//! `listen_bench minimal-nats ADDR URL SUBJECT`: the minimal listener that also publishes each body
//! to JetStream with its own Nats-Msg-Id and answers 200 after the ack: what `tscb listen --nats`
//! does, without the checks, behind the same HTTP load (the fair comparison for it).
//! `listen_bench nats-stream URL SUBJECT`: creates the stream TSCB_BENCH capturing SUBJECT (a
//! 30-minute duplicate window, as `tscb listen --nats` requires), if it is not there.
//! `listen_bench nats-publish URL SUBJECT MESSAGES CONNECTIONS`: the minimal publisher that
//! `tscb listen --nats` is compared with: MESSAGES lines of the same size as the listener's,
//! each with its own Nats-Msg-Id, CONNECTIONS at a time each waiting for its ack, on one client
//! (as the listener); prints the messages per second, then the CPU time it used for them in ns
//! (all its threads: what the listener's CPU per message is compared with).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("minimal") => minimal(args[2].parse().expect("ADDR"), None),
        Some("minimal-nats") => minimal(args[2].parse().expect("ADDR"), Some((&args[3], &args[4]))),
        Some("load") => load(
            args[2].split(',').map(|a| a.parse().expect("ADDR")).collect(),
            args[3].parse().expect("MESSAGES"),
            args[4].parse().expect("CONNECTIONS"),
        ),
        Some("nats-stream") => nats_stream(&args[2], &args[3]),
        Some("nats-publish") => nats_publish(
            &args[2],
            &args[3],
            args[4].parse().expect("MESSAGES"),
            args[5].parse().expect("CONNECTIONS"),
        ),
        _ => {
            eprintln!(
                "usage: listen_bench minimal ADDR | minimal-nats ADDR URL SUBJECT | load ADDR[,ADDR…] MESSAGES CONNECTIONS | \
                 nats-stream URL SUBJECT | nats-publish URL SUBJECT MESSAGES CONNECTIONS"
            );
            std::process::exit(2);
        }
    }
}

fn minimal(addr: SocketAddr, nats: Option<(&str, &str)>) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let publisher = match nats {
            None => None,
            Some((url, subject)) => {
                let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
                Some(std::sync::Arc::new((js, subject.to_owned())))
            }
        };
        let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        eprintln!("listening on http://{}/", listener.local_addr().unwrap());
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (publisher, sent) = (publisher.clone(), sent.clone());
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                        let (publisher, sent) = (publisher.clone(), sent.clone());
                        async move {
                            let body = request.into_body().collect().await.unwrap().to_bytes();
                            if let Some(publisher) = publisher {
                                let (js, subject) = &*publisher;
                                let n = sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let mut headers = async_nats::HeaderMap::new();
                                headers.insert("Nats-Msg-Id", format!("{run:064}-{n}").as_str());
                                let ack =
                                    js.publish_with_headers(subject.clone(), headers, body).await.unwrap();
                                ack.await.unwrap();
                            }
                            Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                                Bytes::from_static(b"ok"),
                            )))
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

fn load(addrs: Vec<SocketAddr>, messages: usize, connections: usize) {
    // A run id keeps the messages of different rounds distinct for the listener's de-duplication.
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let start = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|worker| {
            let addr = addrs[worker % addrs.len()];
            std::thread::spawn(move || {
                let stream = TcpStream::connect(addr).unwrap();
                stream.set_nodelay(true).unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                for i in (worker..messages).step_by(connections) {
                    let body = format!(
                        "{{\"username\":\"\",\"password\":\"\",\"requestId\":\"{run}-{i}\",\
                         \"deviceIds\":[{{\"id\":\"353238060000001\",\"kind\":\"IMEI\"}}],\
                         \"deviceResponse\":{{\"activateResponse\":{{\"state\":\"active\"}}}},\
                         \"status\":\"Success\",\"callbackCount\":1,\"maxCallbackThreshold\":4}}"
                    );
                    write!(
                        writer,
                        "POST /cb HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .unwrap();
                    let (mut line, mut length) = (String::new(), 0usize);
                    reader.read_line(&mut line).unwrap();
                    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).unwrap();
                        if header == "\r\n" {
                            break;
                        }
                        let lower = header.to_ascii_lowercase();
                        if let Some(value) = lower.strip_prefix("content-length:") {
                            length = value.trim().parse().unwrap();
                        }
                    }
                    reader.by_ref().take(length as u64).read_to_end(&mut Vec::new()).unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    println!("{:.0}", messages as f64 / start.elapsed().as_secs_f64());
}

fn nats_stream(url: &str, subject: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
        let config = async_nats::jetstream::stream::Config {
            name: "TSCB_BENCH".into(),
            subjects: vec![subject.into()],
            duplicate_window: std::time::Duration::from_secs(30 * 60),
            ..Default::default()
        };
        js.get_or_create_stream(config).await.unwrap();
    });
}

fn nats_publish(url: &str, subject: &str, messages: usize, connections: usize) {
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
        let (start, cpu) = (Instant::now(), cpu_ns());
        let tasks: Vec<_> = (0..connections)
            .map(|worker| {
                let (js, subject) = (js.clone(), subject.to_owned());
                tokio::spawn(async move {
                    for i in (worker..messages).step_by(connections) {
                        // The listener's line for the load's message: about the same bytes.
                        let line = format!(
                            "{{\"deviceIds\":[{{\"id\":\"353238060000001\",\"kind\":\"IMEI\"}}],\
                             \"deviceResponse\":{{\"activateResponse\":{{\"state\":\"active\"}}}},\
                             \"callbackCount\":1,\"maxCallbackThreshold\":4,\"receivedAt\":\"2026-11-27T11:45:02.311Z\",\
                             \"requestId\":\"{run}-{i}\",\"source\":\"127.0.0.1\",\"status\":\"Success\",\"username\":\"\"}}"
                        );
                        let mut headers = async_nats::HeaderMap::new();
                        headers.insert("Nats-Msg-Id", format!("{run:064}-{i}").as_str());
                        let ack = js.publish_with_headers(subject.clone(), headers, line.into()).await.unwrap();
                        ack.await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let rate = messages as f64 / start.elapsed().as_secs_f64();
        println!("{rate:.0} {}", cpu_ns() - cpu);
    });
}

/// The CPU time (user and system) this process's threads have used, in ns.
fn cpu_ns() -> u64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
    ns(usage.ru_utime) + ns(usage.ru_stime)
}
