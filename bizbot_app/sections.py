"""The sixteen dashboard sections: route, title, icon, and what each will hold."""

from __future__ import annotations

from typing import NamedTuple

from components.sidebar import NavItem


class Section(NamedTuple):
    """A dashboard section as the shell knows it."""

    slug: str
    route: str
    title: str
    icon: str
    subtitle: str
    empty_title: str
    empty_text: str

    @property
    def nav(self) -> NavItem:
        """Its sidebar entry."""
        return NavItem(self.slug, self.route, self.title, self.icon)


SECTIONS: list[Section] = [
    Section("overview", "/", "Overview", "layout-dashboard",
            "How your assistant and team are doing.",
            "No conversations yet",
            "Once a channel is connected, conversations per day, the share the AI resolves, "
            "response times, satisfaction and revenue from payment links appear here."),
    Section("conversations", "/conversations", "Conversations", "messages-square",
            "Every customer conversation, live.",
            "No conversations yet",
            "Messages from WhatsApp, Telegram, Instagram, Messenger and your website chat land "
            "here the moment they arrive, with the AI's replies and your team's."),
    Section("handoff", "/handoff", "Handoff", "hand-helping",
            "Customers waiting for a person.",
            "Nobody is waiting for a human",
            "When the AI is unsure, or a customer asks for a person, the conversation waits "
            "here until an agent takes it over."),
    Section("knowledge", "/knowledge", "Knowledge", "book-open",
            "What your assistant knows.",
            "Your assistant knows nothing yet",
            "Add FAQs, paste text or upload PDF, Word, Markdown and CSV files; the assistant "
            "answers customers from them in their own language."),
    Section("ai-rules", "/ai-rules", "AI Rules", "sliders-horizontal",
            "How your assistant behaves.",
            "Default rules in use",
            "Tone, greeting, business hours, topics to avoid and when to hand over to a human "
            "will be set here."),
    Section("templates", "/templates", "Templates", "file-text",
            "WhatsApp message templates and broadcasts.",
            "No templates yet",
            "Create WhatsApp templates, follow their approval, and send them to one contact or "
            "as a broadcast to a segment."),
    Section("integrations", "/integrations", "Integrations", "plug",
            "Channels and payment providers.",
            "No channel connected",
            "Connect WhatsApp, Telegram, Instagram, Messenger and the website chat widget, and "
            "the payment providers your customers use."),
    Section("leads", "/leads", "Leads", "target",
            "People who may buy, from first message to won.",
            "No leads yet",
            "Leads captured by the AI, the website widget and your agents appear on a board: "
            "new, contacted, qualified, won, lost."),
    Section("sales", "/sales", "Sales & Products", "shopping-bag",
            "Your catalogue, orders and payment links.",
            "No products yet",
            "Add products and services, and follow orders and payment links from the chat to "
            "paid."),
    Section("billing", "/billing", "Billing", "credit-card",
            "Your BizBot plan and usage.",
            "Self-hosted: no bill",
            "This BizBot runs on your own servers. Usage (conversations, AI replies, storage) "
            "will be shown here."),
    Section("ads", "/ads", "Ads Studio", "megaphone",
            "Ad copy and campaigns from your catalogue.",
            "No ads yet",
            "Draft ad copy, images and click-to-chat campaigns from your products and your "
            "customers' questions."),
    Section("notifications", "/notifications", "Notifications", "bell",
            "What needs your attention.",
            "You're all caught up",
            "Handoffs, new leads, follow-up reminders, template status changes and payment "
            "problems will be listed here."),
    Section("users", "/users", "Users & Roles", "users",
            "Your team and what each member may do.",
            "Just you so far",
            "Invite agents, admins and viewers by email and choose their roles."),
    Section("security", "/security", "Security", "shield-check",
            "Your account's protection.",
            "Two-factor authentication is off",
            "Turn on two-factor authentication, see where you are signed in, and manage API "
            "keys and the audit log."),
    Section("settings", "/settings", "Settings", "settings",
            "Your business profile.",
            "",
            ""),
    Section("onboarding", "/onboarding", "Onboarding", "rocket",
            "Get your assistant answering customers.",
            "",
            ""),
]  # fmt: skip

BY_SLUG: dict[str, Section] = {s.slug: s for s in SECTIONS}
# The installation's System page: not a business section (no role grants it, it is not in
# SECTION_PERMISSIONS); the sidebar shows it to instance admins, whose allowed_sections hold it.
SYSTEM_NAV = NavItem("system", "/system", "System", "server-cog")
NAV_ITEMS = [*(s.nav for s in SECTIONS), SYSTEM_NAV]
