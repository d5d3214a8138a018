//! The callback service names that ThingSpace documents.
//!
//! No page gives a complete list and the pages disagree, so these are offered for convenience
//! only: any other non-empty name of ASCII letters and digits is accepted and sent as given.

/// `AlertService` (the register page's spelling).
pub const ALERT_SERVICE: &str = "AlertService";
/// `AlertsService` (the deregister page's spelling).
pub const ALERTS_SERVICE: &str = "AlertsService";
/// `CarrierService`.
pub const CARRIER_SERVICE: &str = "CarrierService";
/// `DevicePRLInformation`.
pub const DEVICE_PRL_INFORMATION: &str = "DevicePRLInformation";
/// `DeviceProfileService`.
pub const DEVICE_PROFILE_SERVICE: &str = "DeviceProfileService";
/// `DeviceService`.
pub const DEVICE_SERVICE: &str = "DeviceService";
/// `DeviceSuspensionStatus`.
pub const DEVICE_SUSPENSION_STATUS: &str = "DeviceSuspensionStatus";
/// `DeviceUsage`.
pub const DEVICE_USAGE: &str = "DeviceUsage";
/// `DiagnosticsService`.
pub const DIAGNOSTICS_SERVICE: &str = "DiagnosticsService";
/// `EnhancedConnectivityService`.
pub const ENHANCED_CONNECTIVITY_SERVICE: &str = "EnhancedConnectivityService";
/// `ExternalProvisioningChanges`.
pub const EXTERNAL_PROVISIONING_CHANGES: &str = "ExternalProvisioningChanges";
/// `IntelligenceService` (named only by the community).
pub const INTELLIGENCE_SERVICE: &str = "IntelligenceService";
/// `NiddService`.
pub const NIDD_SERVICE: &str = "NiddService";
/// `PromoChanges`.
pub const PROMO_CHANGES: &str = "PromoChanges";
/// `QoS`.
pub const QOS: &str = "QoS";
/// `ResumeTrackingNotification`.
pub const RESUME_TRACKING_NOTIFICATION: &str = "ResumeTrackingNotification";
/// `SMSDeliveryConfirmation`.
pub const SMS_DELIVERY_CONFIRMATION: &str = "SMSDeliveryConfirmation";
/// `StateService`.
pub const STATE_SERVICE: &str = "StateService";
/// `SubscriptionNotificationService`.
pub const SUBSCRIPTION_NOTIFICATION_SERVICE: &str = "SubscriptionNotificationService";

/// Every name above, in alphabetical order.
pub const SERVICE_NAMES: &[&str] = &[
    ALERT_SERVICE,
    ALERTS_SERVICE,
    CARRIER_SERVICE,
    DEVICE_PRL_INFORMATION,
    DEVICE_PROFILE_SERVICE,
    DEVICE_SERVICE,
    DEVICE_SUSPENSION_STATUS,
    DEVICE_USAGE,
    DIAGNOSTICS_SERVICE,
    ENHANCED_CONNECTIVITY_SERVICE,
    EXTERNAL_PROVISIONING_CHANGES,
    INTELLIGENCE_SERVICE,
    NIDD_SERVICE,
    PROMO_CHANGES,
    QOS,
    RESUME_TRACKING_NOTIFICATION,
    SMS_DELIVERY_CONFIRMATION,
    STATE_SERVICE,
    SUBSCRIPTION_NOTIFICATION_SERVICE,
];
