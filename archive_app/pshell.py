"""`pshell development.ini`: a shell with the database session, models and services at hand."""

from . import models


def setup(env):
    request = env["request"]
    request.method = "POST"  # a writing session, as a maintenance shell wants
    env["tm"] = request.tm
    env["dbsession"] = request.dbsession
    env["models"] = models
