//! [`CallbackMessage`]: one body as ThingSpace sent it, typed where the documentation fixes the
//! shape and kept as JSON where it leaves the shape open.

use std::fmt;

use serde_json::{Map, Value};

use crate::codes;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The largest body [`CallbackMessage::parse`] reads: 1 MiB, the same bound as for answers.
/// Documented messages are a few hundred bytes; a listener should stop reading at this size
/// and answer 413.
pub const MAX_CALLBACK_BYTES: usize = 1024 * 1024;

/// The documented envelope fields. Any other field is the service's object or an extra.
const ENVELOPE: [&str; 7] =
    ["username", "password", "requestId", "deviceIds", "status", "callbackCount", "maxCallbackThreshold"];

/// The fields left out of [`CallbackMessage::dedup_key`]: the attempt number, which resends
/// raise, and the registration's echo, which a re-registration changes between two attempts of
/// the same message (ThingSpace was seen sending the old password for minutes after a rotation,
/// so the first attempt and a resend may carry different ones).
const NOT_IDENTITY: [&str; 3] = ["callbackCount", "username", "password"];

/// One entry of `deviceIds`: an identifier and its kind as sent (`Iccid`, `IMEI`, `imei`, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceId {
    /// The identifier, e.g. an ICCID or IMEI.
    pub id: String,
    /// Its kind, exactly as sent; `""` when the entry had none. Compare it with
    /// [`DeviceId::kind_is`]: ThingSpace's casing varies.
    pub kind: String,
}

impl DeviceId {
    /// True when the kind is `kind`, ignoring ASCII case (`Iccid`, `ICCID` and `iccid` are one
    /// kind).
    ///
    /// ```
    /// let d = tscb::DeviceId { id: "89148000000000000000".into(), kind: "Iccid".into() };
    /// assert!(d.kind_is("ICCID"));
    /// assert!(!d.kind_is("imei"));
    /// ```
    pub fn kind_is(&self, kind: &str) -> bool {
        self.kind.eq_ignore_ascii_case(kind)
    }
}

/// `faultResponse`: the failure ThingSpace reports for an asynchronous request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallbackFault {
    /// `faultcode`, in the API's `<Service>.<CLASS>.<Detail>` form, e.g.
    /// `UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive`: match on it, not on the message.
    /// `""` when absent.
    pub code: String,
    /// `faultstring`, for people. `""` when absent.
    pub message: String,
}

/// One callback message, as ThingSpace POSTs it to a listener.
///
/// Read with [`CallbackMessage::parse`] (or [`crate::CallbackVerifier::verify`], which also
/// checks the source and credentials). Absent fields and JSON `null` are `None`; fields the
/// documentation does not name are kept in [`CallbackMessage::extra`]; the service's own object
/// (`deviceResponse`, `niddResponse`, `faultResponse`, …) is kept unchanged as
/// [`CallbackMessage::payload`]. `Debug` shows the password as `<redacted>`.
///
/// ```
/// let body = br#"{"username":"","password":"","requestId":"076f7ea9-8230-49b1-9386-8dafaddc7d9e",
///   "deviceIds":[{"id":"20180903000000000009","kind":"Iccid"}],
///   "faultResponse":{"faultcode":"UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive",
///     "faultstring":"REQUEST_FAILED. Device is already active"},
///   "status":"Failed","callbackCount":1,"maxCallbackThreshold":4}"#;
/// let msg = tscb::CallbackMessage::parse(body)?;
/// assert_eq!(msg.status(), Some("Failed"));
/// assert_eq!(msg.fault().unwrap().code, "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive");
/// assert!(msg.device_ids()[0].kind_is("iccid"));
/// assert_eq!(msg.payload_name(), Some("faultResponse"));
/// # Ok::<(), tscb::Error>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct CallbackMessage {
    request_id: Option<String>,
    username: Option<String>,
    password: Option<Secret>,
    device_ids: Vec<DeviceId>,
    status: Option<String>,
    callback_count: Option<u32>,
    max_callback_threshold: Option<u32>,
    fault: Option<CallbackFault>,
    payload_name: Option<String>,
    extra: Map<String, Value>,
    /// The body as received, without `password`.
    body: Map<String, Value>,
    dedup_key: String,
}

impl CallbackMessage {
    /// Reads one callback body.
    ///
    /// Errors (kind `callback_invalid`; the message never quotes a received value):
    /// [`codes::CALLBACK_TOO_LARGE`] over [`MAX_CALLBACK_BYTES`]; [`codes::CALLBACK_NOT_JSON`]
    /// for an empty body or one that is not JSON; [`codes::CALLBACK_UNEXPECTED_SHAPE`] for JSON
    /// that is not an object, or a known field of the wrong type.
    ///
    /// Lenient where the documentation is open: any field may be absent or `null`;
    /// `callbackCount` and `maxCallbackThreshold` may be a whole number or a string of one
    /// (`"2"`); a `deviceIds` entry may lack `kind`; unknown fields are kept.
    pub fn parse(body: &[u8]) -> Result<CallbackMessage> {
        if body.len() > MAX_CALLBACK_BYTES {
            return Err(invalid(
                codes::CALLBACK_TOO_LARGE,
                format!("the body has {} bytes; at most {MAX_CALLBACK_BYTES} are read", body.len()),
            ));
        }
        // serde_json's syntax errors name a position and what was expected, never the input.
        let value: Value = serde_json::from_slice(body).map_err(|e| Error::CallbackInvalid {
            code: codes::CALLBACK_NOT_JSON,
            message: format!("the body is not JSON: {e}"),
            source: Some(Box::new(e)),
        })?;
        let Value::Object(mut map) = value else {
            return Err(shape(format!("the body is {}, not a JSON object", type_name(&value))));
        };
        let password = string(&map, "password")?.map(Secret::from);
        map.remove("password");
        let fault = match map.get("faultResponse") {
            None | Some(Value::Null) => None,
            Some(Value::Object(f)) => Some(CallbackFault {
                code: string(f, "faultcode").map_err(within("faultResponse"))?.unwrap_or_default(),
                message: string(f, "faultstring").map_err(within("faultResponse"))?.unwrap_or_default(),
            }),
            Some(other) => return Err(wrong_type("faultResponse", "an object", other)),
        };
        let payload_name = payload_name(&map);
        let extra = map
            .iter()
            .filter(|(k, _)| !ENVELOPE.contains(&k.as_str()) && Some(*k) != payload_name.as_ref())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(CallbackMessage {
            request_id: string(&map, "requestId")?,
            username: string(&map, "username")?,
            password,
            device_ids: device_ids(&map)?,
            status: string(&map, "status")?,
            callback_count: count(&map, "callbackCount")?,
            max_callback_threshold: count(&map, "maxCallbackThreshold")?,
            fault,
            payload_name,
            extra,
            dedup_key: dedup_key(&map),
            body: map,
        })
    }

    /// `requestId`: the `requestId` that the asynchronous request (an activation, …) returned.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// `username`: the registered username echoed back (`""` when none was registered).
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// `password`: the registered password echoed back in plain text (`""` when none was
    /// registered).
    pub fn password(&self) -> Option<&Secret> {
        self.password.as_ref()
    }

    /// `deviceIds`, in order; empty when absent.
    pub fn device_ids(&self) -> &[DeviceId] {
        &self.device_ids
    }

    /// `status`, e.g. `Success` or `Failed`; absent on some messages.
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// `callbackCount`: which attempt this is (1 for the first; resends raise it).
    pub fn callback_count(&self) -> Option<u32> {
        self.callback_count
    }

    /// `maxCallbackThreshold`: how many attempts ThingSpace makes (4).
    pub fn max_callback_threshold(&self) -> Option<u32> {
        self.max_callback_threshold
    }

    /// `faultResponse`'s `faultcode` and `faultstring`, when the message has one.
    pub fn fault(&self) -> Option<&CallbackFault> {
        self.fault.as_ref()
    }

    /// The name of the service's object: `deviceResponse`, `niddResponse`, `faultResponse`, …
    ///
    /// It is the object-valued field that is not part of the envelope. Should a message ever
    /// have several, the first by name among those ending in `Response` is chosen (else the
    /// first by name), and the others stay in [`CallbackMessage::extra`].
    pub fn payload_name(&self) -> Option<&str> {
        self.payload_name.as_deref()
    }

    /// The service's object, unchanged.
    pub fn payload(&self) -> Option<&Value> {
        self.payload_name.as_ref().and_then(|name| self.body.get(name))
    }

    /// Every field that is neither part of the envelope nor the payload, unchanged.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// The whole body as received, without `password`: what a listener can log or store.
    pub fn to_json_without_password(&self) -> &Map<String, Value> {
        &self.body
    }

    /// [`CallbackMessage::to_json_without_password`], taken rather than borrowed: for a listener
    /// that adds its own fields and writes the message, without copying the whole tree.
    pub fn into_json_without_password(self) -> Map<String, Value> {
        self.body
    }

    /// One message's identity across ThingSpace's resends: 64 lower-case hex digits.
    ///
    /// Resends raise `callbackCount` and are otherwise the same message, so the key is the
    /// SHA-256 of the body's canonical JSON (object keys sorted by their UTF-8 bytes, no white
    /// space, strings escaped and numbers written as `serde_json` writes them) without
    /// `callbackCount`, `username` and `password`. The echoed credentials are left out because a
    /// re-registration changes them between two attempts of one message (the old password was
    /// seen for minutes after a rotation). Two different messages differ in `requestId`, the
    /// devices or the service's object, so they get different keys. The key depends only on
    /// the body, so it is the same in every process and every version of this crate.
    pub fn dedup_key(&self) -> &str {
        &self.dedup_key
    }
}

impl fmt::Debug for CallbackMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackMessage")
            .field("request_id", &self.request_id)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("device_ids", &self.device_ids)
            .field("status", &self.status)
            .field("callback_count", &self.callback_count)
            .field("max_callback_threshold", &self.max_callback_threshold)
            .field("fault", &self.fault)
            .field("payload_name", &self.payload_name)
            .field("extra", &self.extra)
            .finish_non_exhaustive()
    }
}

fn shape(message: String) -> Error {
    invalid(codes::CALLBACK_UNEXPECTED_SHAPE, message)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The error for a field of the wrong type. It names the type that came, never the value: a
/// misplaced password must not reach a log through an error message.
fn wrong_type(field: &str, expected: &str, got: &Value) -> Error {
    shape(format!("`{field}` is {}, not {expected}", type_name(got)))
}

/// Prefixes the field named in a shape error with its parent, e.g. `faultResponse.faultcode`.
fn within(parent: &str) -> impl Fn(Error) -> Error + '_ {
    move |error| match error {
        Error::CallbackInvalid { code, message, source } => {
            Error::CallbackInvalid { code, message: message.replacen('`', &format!("`{parent}."), 1), source }
        }
        other => other,
    }
}

fn string(map: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(wrong_type(key, "a string", other)),
    }
}

fn count(map: &Map<String, Value>, key: &str) -> Result<Option<u32>> {
    let parsed = match map.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Some(Value::String(s)) => s.trim().parse::<u32>().ok(),
        Some(other) => return Err(wrong_type(key, "a whole number", other)),
    };
    parsed.map(Some).ok_or_else(|| shape(format!("`{key}` is not a whole number from 0 to {}", u32::MAX)))
}

fn device_ids(map: &Map<String, Value>) -> Result<Vec<DeviceId>> {
    let entries = match map.get("deviceIds") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(entries)) => entries,
        Some(other) => return Err(wrong_type("deviceIds", "an array", other)),
    };
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let field = format!("deviceIds[{i}]");
            let Value::Object(entry) = entry else {
                return Err(wrong_type(&field, "an object", entry));
            };
            let id = string(entry, "id")
                .map_err(within(&field))?
                .ok_or_else(|| shape(format!("`{field}` has no `id`")))?;
            let kind = string(entry, "kind").map_err(within(&field))?.unwrap_or_default();
            Ok(DeviceId { id, kind })
        })
        .collect()
}

fn payload_name(map: &Map<String, Value>) -> Option<String> {
    let mut names: Vec<&String> = map
        .iter()
        .filter(|(k, v)| v.is_object() && !ENVELOPE.contains(&k.as_str()))
        .map(|(k, _)| k)
        .collect();
    // Sorted here rather than trusting the map's order, which serde_json's `preserve_order`
    // feature (enabled by any crate in a build) would change.
    names.sort();
    names.iter().find(|n| n.ends_with("Response")).or(names.first()).map(|n| (*n).clone())
}

fn dedup_key(map: &Map<String, Value>) -> String {
    let mut canonical = Vec::with_capacity(256);
    write_object(&mut canonical, map, &NOT_IDENTITY);
    let digest = ring::digest::digest(&ring::digest::SHA256, &canonical);
    // One string, not one per byte: this runs for every message a listener accepts.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut key = String::with_capacity(64);
    for b in digest.as_ref() {
        key.push(HEX[usize::from(b >> 4)] as char);
        key.push(HEX[usize::from(b & 15)] as char);
    }
    key
}

fn write_object(out: &mut Vec<u8>, map: &Map<String, Value>, skip: &[&str]) {
    let mut entries: Vec<(&String, &Value)> =
        map.iter().filter(|(k, _)| !skip.contains(&k.as_str())).collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    out.push(b'{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // A string cannot fail to serialise into a Vec.
        serde_json::to_writer(&mut *out, key).unwrap_or_default();
        out.push(b':');
        write_value(out, value);
    }
    out.push(b'}');
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Object(map) => write_object(out, map, &[]),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        // Scalars cannot fail to serialise into a Vec.
        scalar => serde_json::to_writer(&mut *out, scalar).unwrap_or_default(),
    }
}

fn invalid(code: &'static str, message: String) -> Error {
    Error::CallbackInvalid { code, message, source: None }
}
