"""The marketplaces shipped with the system (docs/domain.md §6), loaded by a data migration.

Staff can edit every value in the admin afterwards; the loader never overwrites an edit. Values
marked "assumption" are not given by the marketplace's published rules.
"""

from __future__ import annotations

from typing import Any

CN = {"time_zone": "Asia/Shanghai", "calendar_country": "CN"}
FR = {"time_zone": "Europe/Paris", "calendar_country": "FR"}

# Decision clocks on cases: no marketplace publishes them; 2 business days is an assumption.
DECISION_CLOCKS = {"evidence_review_business_days": 2, "refund_decision_business_days": 2}

PROFILES: list[dict[str, Any]] = [
    {
        "code": "tmall",
        "name": "Tmall",
        **CN,
        # Chat: 30 s or less scores 5, 3 min or more scores 3.8. The response clock is set at the
        # 3.8 edge; the scorecard maps actual times to levels.
        "first_response_amount": 180,
        "first_response_unit": "seconds",
        "first_response_counting": "calendar_time",
        "channel": "chat",
        "mediation": "platform_mediates",
        "html_allowed": False,
        "response_goal_seconds": 30,
        "notes": "Chinese calendar; 15 business days to resolve a confirmed claim.",
    },
    {
        "code": "tmall_global",
        "name": "Tmall Global",
        **CN,
        "first_response_amount": 180,
        "first_response_unit": "seconds",
        "first_response_counting": "calendar_time",
        "channel": "chat",
        "mediation": "platform_mediates",
        "html_allowed": False,
        "cross_border": True,
        "response_goal_seconds": 30,
        "notes": "Cross-border Tmall; same rules as Tmall. Every order is international.",
    },
    {
        "code": "jd",
        "name": "JD.com",
        **CN,
        # Assumption: JD's chat is scored like Tmall's.
        "first_response_amount": 180,
        "first_response_unit": "seconds",
        "first_response_counting": "calendar_time",
        "channel": "chat",
        "mediation": "platform_mediates",
        "html_allowed": False,
        "response_goal_seconds": 30,
        "notes": "Chinese calendar. First-response rule assumed equal to Tmall's.",
    },
    {
        "code": "amazon_fr",
        "name": "Amazon.fr",
        **FR,
        "first_response_amount": 24,
        "first_response_unit": "hours",
        "first_response_counting": "calendar_time",
        "channel": "email",
        "mediation": "platform_mediates",
        "html_allowed": False,
        "send_replies_by_email": True,
        "return_response_hours": 48,
        "notes": "24 h, weekends and holidays included; target 90 % on time. Return requests "
        "must be answered within 48 h. A-to-z claims are arbitrated by Amazon.",
    },
    {
        "code": "cdiscount",
        "name": "Cdiscount",
        **FR,
        "first_response_amount": 48,
        "first_response_unit": "hours",
        "first_response_counting": "business_hours",
        "channel": "portal",
        "mediation": "platform_mediates",
        "notes": "Mirakl marketplace: notified by e-mail, answered on the portal.",
    },
    {
        "code": "aliexpress",
        "name": "AliExpress",
        # Assumption: the brand's support team works AliExpress from France.
        **FR,
        "first_response_amount": None,
        "channel": "chat",
        "mediation": "platform_mediates",
        "notes": "Chat on the seller portal only; no published first-response deadline. "
        "Calendar assumed French (the brand's team).",
    },
    {
        "code": "rakuten",
        "name": "Rakuten France",
        **FR,
        # Assumption: 48 business hours, as Cdiscount.
        "first_response_amount": 48,
        "first_response_unit": "hours",
        "first_response_counting": "business_hours",
        "channel": "portal",
        "mediation": "platform_mediates",
        "attachments_allowed": False,
        "html_allowed": False,
        # Assumptions: Rakuten takes replies only, of up to 2,000 characters.
        "seller_may_write_first": False,
        "max_message_length": 2000,
        "notes": "No attachments and no HTML in messages. 48 business hours is an assumption.",
    },
    {
        "code": "spartoo",
        "name": "Spartoo",
        **FR,
        "first_response_amount": None,
        "channel": "none",
        "mediation": "platform_handles",
        "response_from": "platform_only",
        "seller_may_write_first": False,
        "notes": "The marketplace handles customer service itself; the seller only answers "
        "its questions.",
    },
    {
        "code": "faire",
        "name": "Faire",
        # Assumption: Faire's "regional holidays" are those of the brand's region (France).
        **FR,
        "first_response_amount": 2,
        "first_response_unit": "days",
        "first_response_counting": "business_days",
        "channel": "portal",
        "mediation": "seller_handles",
        "response_scope": "first_message",
        "notes": "A retailer's first message answered more than 2 full business days after "
        "receipt is missed (receipt day, weekends and holidays not counted). Report every "
        "90 days.",
    },
]


def load_profiles(marketplace_model: Any) -> int:
    """Create the shipped marketplaces that do not exist yet; never overwrite an edit."""
    created = 0
    # A migration passes the model as it was then: values of later fields wait for the
    # migration that adds them.
    known = {field.name for field in marketplace_model._meta.get_fields()}
    for profile in PROFILES:
        data = {
            name: value for name, value in {**DECISION_CLOCKS, **profile}.items() if name in known
        }
        code = data.pop("code")
        _, was_created = marketplace_model.objects.get_or_create(code=code, defaults=data)
        created += was_created
    return created
