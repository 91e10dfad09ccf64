"""Every table of BizBot; importing this package registers the whole metadata."""

from backend.models.ads import AdAsset, AdAssetKind, AdAssetStatus, AdConversation, AdPlatform
from backend.models.ai import AIRule, AIUsage
from backend.models.base import Table
from backend.models.billing import BillingWebhookEvent, Subscription, SubscriptionStatus
from backend.models.channels import (
    ChannelIntegration,
    ChannelKind,
    InboundEvent,
    InboundEventKind,
    InboundEventStatus,
)
from backend.models.commerce import Order, OrderItem, OrderStatus, Product, ProductKind
from backend.models.contacts import Contact, ContactChannelIdentity
from backend.models.conversations import (
    Conversation,
    ConversationPriority,
    ConversationStatus,
    DeliveryStatus,
    Message,
    MessageContentType,
    MessageDirection,
    Outbox,
    OutboxStatus,
    SenderType,
)
from backend.models.handoff import (
    Assignment,
    AssignmentMethod,
    Handoff,
    HandoffReason,
    HandoffRequester,
    SLAMetric,
    SLAPolicy,
)
from backend.models.inbox import CannedResponse
from backend.models.knowledge import (
    KnowledgeChunk,
    KnowledgeSource,
    KnowledgeSourceKind,
    KnowledgeSourceStatus,
)
from backend.models.leads import Lead, LeadSource, LeadStage
from backend.models.notifications import (
    Notification,
    NotificationKind,
    NotificationPreference,
)
from backend.models.onboarding import OnboardingProgress
from backend.models.outgoing import (
    OutgoingAttempt,
    OutgoingDelivery,
    OutgoingDeliveryStatus,
    WebhookEndpoint,
)
from backend.models.payments import (
    Payment,
    PaymentLink,
    PaymentLinkStatus,
    PaymentProviderKind,
    PaymentProviderSetting,
    PaymentStatus,
    PaymentWebhookEvent,
)
from backend.models.privacy import RetentionPolicy
from backend.models.security import APIKey, AuditLog, IPAllowlistEntry
from backend.models.templates import MessageTemplate, TemplateCategory, TemplateStatus
from backend.models.tenants import (
    AccountToken,
    Business,
    Invitation,
    Membership,
    Role,
    TwoFactor,
    User,
    UserSession,
)

__all__ = [
    "AIRule",
    "AIUsage",
    "APIKey",
    "AccountToken",
    "AdAsset",
    "AdAssetKind",
    "AdAssetStatus",
    "AdConversation",
    "AdPlatform",
    "Assignment",
    "AssignmentMethod",
    "AuditLog",
    "BillingWebhookEvent",
    "Business",
    "CannedResponse",
    "ChannelIntegration",
    "ChannelKind",
    "Contact",
    "ContactChannelIdentity",
    "Conversation",
    "ConversationPriority",
    "ConversationStatus",
    "DeliveryStatus",
    "Handoff",
    "HandoffReason",
    "HandoffRequester",
    "IPAllowlistEntry",
    "InboundEvent",
    "InboundEventKind",
    "InboundEventStatus",
    "Invitation",
    "KnowledgeChunk",
    "KnowledgeSource",
    "KnowledgeSourceKind",
    "KnowledgeSourceStatus",
    "Lead",
    "LeadSource",
    "LeadStage",
    "Membership",
    "Message",
    "MessageContentType",
    "MessageDirection",
    "MessageTemplate",
    "Notification",
    "NotificationKind",
    "NotificationPreference",
    "OnboardingProgress",
    "Order",
    "OrderItem",
    "OrderStatus",
    "Outbox",
    "OutboxStatus",
    "OutgoingAttempt",
    "OutgoingDelivery",
    "OutgoingDeliveryStatus",
    "Payment",
    "PaymentLink",
    "PaymentLinkStatus",
    "PaymentProviderKind",
    "PaymentProviderSetting",
    "PaymentStatus",
    "PaymentWebhookEvent",
    "Product",
    "ProductKind",
    "RetentionPolicy",
    "Role",
    "SLAMetric",
    "SLAPolicy",
    "SenderType",
    "Subscription",
    "SubscriptionStatus",
    "Table",
    "TemplateCategory",
    "TemplateStatus",
    "TwoFactor",
    "User",
    "UserSession",
    "WebhookEndpoint",
]
