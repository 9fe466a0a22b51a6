"""The composition root: every domain's routes, job handlers and fact consumers.

Importing a domain's modules registers its jobs (`@jobs.handler`) and fact consumers
(`@activity.consumer`); the app and the worker import this module and nothing else to get them.
"""

from __future__ import annotations

from fastapi import APIRouter

from madad.activity import api as activity_api
from madad.auth import admin_views
from madad.auth import api as auth_api
from madad.auth import views as auth_views
from madad.channels.api import api as api_channel
from madad.channels.api import service as api_channel_service
from madad.channels.chat import admin_views as chat_admin_views
from madad.channels.chat import api as chat_api
from madad.channels.chat import service as chat_service
from madad.channels.chat import views as chat_views
from madad.channels.email import api as email_api
from madad.channels.email import imap as email_imap
from madad.channels.email import outbound as email_outbound
from madad.channels.email import views as email_views
from madad.channels.hours import api as hours_api
from madad.channels.hours import views as hours_views
from madad.channels.phone import api as phone_api
from madad.channels.phone import callbacks_api, callbacks_views
from madad.contacts import api as contacts_api
from madad.contacts import organisation_views
from madad.contacts import views as contacts_views
from madad.demo import views as demo_views
from madad.kb import api as kb_api
from madad.kb import help as kb_help
from madad.kb import views as kb_views
from madad.metrics import api as metrics_api
from madad.metrics import kb_api as metrics_kb_api
from madad.metrics import kb_views as metrics_kb_views
from madad.metrics import rollups as metrics_rollups
from madad.metrics import staffing_views
from madad.metrics import views as metrics_views
from madad.portal import access as portal_access
from madad.portal import admin_views as portal_admin_views
from madad.portal import mail as portal_mail
from madad.portal import views as portal_views
from madad.surveys import api as surveys_api
from madad.surveys import delivery as surveys_delivery
from madad.surveys import public as surveys_public
from madad.surveys import views as surveys_views
from madad.tickets import api as tickets_api
from madad.tickets import views as tickets_views
from madad.webhooks import api as webhooks_api
from madad.webhooks import service as webhooks_service
from madad.webhooks import views as webhooks_views

# Matching is linear in the number of routes: the hottest (intake) router comes first.
ROUTERS: list[APIRouter] = [
    api_channel.router,
    tickets_api.router,
    contacts_api.router,
    auth_api.router,
    activity_api.router,
    webhooks_api.router,
    email_api.router,
    phone_api.router,
    chat_api.router,
    hours_api.router,
    hours_api.public,
    callbacks_api.router,
    callbacks_api.public,
    metrics_api.router,
    metrics_kb_api.router,
    surveys_api.router,
    surveys_public.router,
    kb_api.router,
    kb_help.router,
    portal_views.router,
    # The agent console (HTML).
    auth_views.router,
    tickets_views.router,
    contacts_views.router,
    organisation_views.router,
    admin_views.router,
    webhooks_views.router,
    email_views.router,
    chat_views.router,
    hours_views.router,
    callbacks_views.router,
    metrics_views.router,
    staffing_views.router,
    kb_views.router,
    metrics_kb_views.router,
    surveys_views.router,
    portal_admin_views.router,
    chat_admin_views.router,
    demo_views.router,  # /demo/shop, only on a database that holds the demo
]

# Modules imported for what they register (jobs, periodic jobs, fact consumers).
REGISTERING = (
    api_channel_service,
    chat_service,
    webhooks_service,
    email_imap,
    email_outbound,
    metrics_rollups,
    surveys_delivery,
    portal_access,
    portal_mail,
)
