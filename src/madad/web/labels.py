"""Localised names of the values pages show: ticket status, priority, channel."""

from __future__ import annotations

from madad.web import i18n


def status_label(status: str) -> str:
    labels = {
        "new": i18n.gettext("New"),
        "open": i18n.gettext("Open"),
        "pending": i18n.gettext("Pending"),
        "on_hold": i18n.gettext("On hold"),
        "solved": i18n.gettext("Solved"),
        "closed": i18n.gettext("Closed"),
    }
    return labels.get(status, status)


def priority_label(priority: str) -> str:
    labels = {
        "low": i18n.gettext("Low"),
        "normal": i18n.gettext("Normal"),
        "high": i18n.gettext("High"),
        "urgent": i18n.gettext("Urgent"),
    }
    return labels.get(priority, priority)


def channel_label(channel: str | None) -> str:
    labels = {
        "email": i18n.gettext("Email"),
        "chat": i18n.gettext("Chat"),
        "phone": i18n.gettext("Phone"),
        "api": i18n.gettext("API"),
        "portal": i18n.gettext("Portal"),
    }
    return labels.get(channel or "", channel or "")


# What templates get as `labels`: labels.status(t.status) and so on.
LABELS = {"status": status_label, "priority": priority_label, "channel": channel_label}
