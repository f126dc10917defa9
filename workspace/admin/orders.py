"""Orders: created and changed through ``cases.services.order_upsert``, never deleted."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from cases.models import Order
from cases.services import order_upsert
from cases.services.orders import ORDER_FIELDS

from ..counting import EstimatedCountPaginator
from .base import ServiceFormAdmin, case_link


class OrderForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ("marketplace", "external_id", *ORDER_FIELDS)


@admin.register(Order)
class OrderAdmin(ServiceFormAdmin):
    list_display = (
        "external_id",
        "marketplace",
        "customer_name",
        "customer_email",
        "placed_at",
        "promised_ship_date",
        "shipped_at",
        "shipping_scope",
        "total",
        "currency",
    )
    # "Parcel lost" lists the orders a carrier declared lost: staff decide on a missing-item case.
    list_filter = ("marketplace", "shipping_scope", "parcel_lost")
    list_select_related = ("marketplace",)
    search_fields = ("=external_id", "customer_name", "=customer_email")
    search_help_text = _("Order id (exact), customer name, customer e-mail (exact)")
    ordering = ("-placed_at", "-pk")
    form = OrderForm
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = ("cases_of_order", "shipments_of_order")

    def get_fields(self, request: Any, obj: Any = None) -> tuple[str, ...]:
        fields = ("marketplace", "external_id", *ORDER_FIELDS)
        return (*fields, "cases_of_order", "shipments_of_order") if obj else fields

    def get_readonly_fields(self, request: Any, obj: Any = None) -> tuple[str, ...]:
        # Integrations refer to an order by marketplace and id: both are fixed once created.
        if obj:
            return ("marketplace", "external_id", "cases_of_order", "shipments_of_order")
        return ()

    @admin.display(description=_("shipments and carrier scans"))
    def shipments_of_order(self, obj: Order) -> str:
        shipments = list(obj.shipments.prefetch_related("events").order_by("pk")[:20])
        if not shipments:
            return "—"
        tz = obj.marketplace.tz
        blocks = []
        for shipment in shipments:
            lost = (
                format_html(
                    ' <strong class="ws-overdue">{}</strong>',
                    _("declared lost: decide on a missing-item case"),
                )
                if shipment.lost_at
                else ""
            )
            scans = format_html_join(
                "",
                "<li>{} · {} · {}</li>",
                (
                    (
                        event.occurred_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                        event.get_status_display(),
                        event.location,
                    )
                    for event in shipment.events.all()
                ),
            )
            blocks.append(
                format_html(
                    "<p><strong>{} {}</strong>{}</p><ul>{}</ul>",
                    shipment.carrier,
                    shipment.tracking_number,
                    lost,
                    scans,
                )
            )
        return format_html("{}", format_html_join("", "{}", ((b,) for b in blocks)))

    @admin.display(description=_("cases"))
    def cases_of_order(self, obj: Order) -> str:
        links = [case_link(case) for case in obj.cases.order_by("opened_at")[:50]]
        return format_html(", ".join(["{}"] * len(links)), *links) if links else "—"

    def save_model(self, request: Any, obj: Order, form: forms.ModelForm, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in ORDER_FIELDS if name in form.fields}
        if change:
            fields = {name: value for name, value in fields.items() if name in form.changed_data}
        marketplace = obj.marketplace if change else form.cleaned_data["marketplace"]
        external_id = obj.external_id if change else form.cleaned_data["external_id"]
        order, _created = order_upsert(marketplace=marketplace, external_id=external_id, **fields)
        obj.pk = order.pk

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
