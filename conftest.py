"""Keep every pytest run in this repository away from real mail providers.

This file sits at the root so that pytest loads it for ``tests/`` and for
``notebooks/`` alike. The kernels nbval starts inherit this process's
environment, and lesson 08 sends with the ``MAILCOURSE_SMTP_*`` settings it
finds there or in a ``.env`` file. Blanking those variables before any kernel
starts makes it send to the provider simulator instead.
"""

from mailcourse.authoring import hide_provider_settings


def pytest_configure(config):
    hide_provider_settings()
