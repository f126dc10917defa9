"""Fixtures of the admin tests: staff users in the two role groups (as a real team is set up),
logged-in clients, and cases built through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from cases.actors import Actor
from workspace.roles import SUPPORT_AGENT, SUPPORT_SUPERVISOR


def make_staff(django_user_model, username: str, role: str, **extra):
    user = django_user_model.objects.create_user(
        username, password=f"pw-{username}-1", is_staff=True, **extra
    )
    user.groups.add(Group.objects.get(name=role))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def agent_user(db, django_user_model):
    return make_staff(django_user_model, "lea", SUPPORT_AGENT, first_name="Léa", last_name="Martin")


@pytest.fixture
def other_agent(db, django_user_model):
    return make_staff(django_user_model, "hugo", SUPPORT_AGENT, first_name="Hugo")


@pytest.fixture
def supervisor_user(db, django_user_model):
    return make_staff(django_user_model, "wang", SUPPORT_SUPERVISOR, first_name="Wang Fang")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def agent_client(agent_user) -> Client:
    return logged_in(agent_user)


@pytest.fixture
def supervisor_client(supervisor_user) -> Client:
    return logged_in(supervisor_user)


@pytest.fixture
def agent_actor_(agent_user) -> Actor:
    return Actor.for_user(agent_user)


def hours_ago(hours: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours)
