//! The callback messages the simulator delivers: a realistic default per service (shapes from
//! Verizon's pages as far as they go), with the caller's fields laid over it.

use serde_json::{json, Map, Value};

use crate::random;

/// The message for `service`, before its credentials and `callbackCount` are set. `fault`
/// replaces the service's object with a `faultResponse`; `overrides` replace top-level fields
/// (a `null` removes one).
pub(crate) fn message(
    service: &str,
    fault: bool,
    overrides: Option<&Map<String, Value>>,
) -> Map<String, Value> {
    let device = json!([{"id": "353238060000001", "kind": "IMEI"}]);
    let (status, name, payload) = if fault {
        (
            "Failed",
            "faultResponse",
            json!({
                "faultcode": "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive",
                "faultstring": "REQUEST_FAILED. Device is already active",
            }),
        )
    } else {
        match service.to_ascii_lowercase().as_str() {
            "niddservice" => (
                "Success",
                "niddResponse",
                json!({"niddMONotificationResponse": {
                    "message": "aGVsbG8gZnJvbSB0aGUgZGV2aWNl",
                    "dataEncoding": "BASE64",
                }}),
            ),
            "deviceusage" => (
                "Success",
                "deviceUsageResponse",
                json!({"usage": {"dataUsed": 1048576, "unit": "bytes", "smsUsed": 3}}),
            ),
            // CarrierService, and any service whose shape is open: an activation result.
            _ => (
                "Success",
                "deviceResponse",
                json!({"activateResponse": {"deviceIds": device.clone(), "state": "active"}}),
            ),
        }
    };
    let mut body = Map::new();
    body.insert("username".into(), "".into());
    body.insert("password".into(), "".into());
    body.insert("requestId".into(), random::uuid_like().into());
    body.insert("deviceIds".into(), device);
    body.insert(name.into(), payload);
    body.insert("status".into(), status.into());
    body.insert("callbackCount".into(), 1.into());
    body.insert("maxCallbackThreshold".into(), 4.into());
    for (key, value) in overrides.into_iter().flatten() {
        match value {
            Value::Null => body.remove(key),
            _ => body.insert(key.clone(), value.clone()),
        };
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_per_service_and_overrides() {
        let carrier = message("CarrierService", false, None);
        assert!(carrier["deviceResponse"]["activateResponse"].is_object());
        assert_eq!(carrier["callbackCount"], 1);
        assert!(message("NiddService", false, None)["niddResponse"]["niddMONotificationResponse"].is_object());
        assert!(message("DeviceUsage", false, None)["deviceUsageResponse"].is_object());
        let fault = message("CarrierService", true, None);
        assert_eq!(fault["status"], "Failed");
        assert!(fault.get("deviceResponse").is_none());
        assert_ne!(carrier["requestId"], fault["requestId"], "each message is a new one");
        let overrides = json!({"requestId": "r-1", "status": null, "extra": [1]});
        let changed = message("CarrierService", false, overrides.as_object());
        assert_eq!(changed["requestId"], "r-1");
        assert!(changed.get("status").is_none());
        assert_eq!(changed["extra"], json!([1]));
    }
}
