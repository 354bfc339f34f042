"""Stable names of the failure kinds that ``diagnose()`` returns.

Notebooks, forms and tests compare against these names, so they never change
once published; the Spanish titles and texts may.
"""

# Connecting
HOST_NOT_FOUND = "host-not-found"
CONNECTION_REFUSED = "connection-refused"
CONNECT_TIMEOUT = "timeout"
NETWORK_UNREACHABLE = "network-unreachable"
PLAIN_ON_TLS_PORT = "plain-on-tls-port"
SERVER_DISCONNECTED = "server-disconnected"
NOT_CONNECTED = "not-connected"
NEVER_CONNECTED = "never-connected"
CONNECT_REJECTED = "connect-rejected"

# TLS
SSL_ON_STARTTLS_PORT = "ssl-on-starttls-port"
TLS_ON_COURSE_SERVER = "tls-on-course-server"
CERTIFICATE_NOT_TRUSTED = "certificate-verify-failed"
HOSTNAME_MISMATCH = "hostname-mismatch"
STARTTLS_NOT_OFFERED = "starttls-not-offered"
STARTTLS_REQUIRED = "starttls-required"
TLS_FAILED = "tls-failed"

# Authentication
AUTH_NOT_OFFERED = "auth-not-offered"
AUTH_MECHANISM_UNSUPPORTED = "auth-mechanism-unsupported"
AUTH_FAILED = "auth-failed"
GMAIL_APP_PASSWORD = "gmail-app-password"
MICROSOFT_BASIC_AUTH_DISABLED = "microsoft-basic-auth-disabled"
AUTH_TEMPORARY_FAILURE = "auth-temporary-failure"
NON_ASCII_CREDENTIALS = "non-ascii-credentials"
AUTH_REQUIRED = "auth-required"

# Sending
NO_RECIPIENTS = "no-recipients"
ALL_RECIPIENTS_REFUSED = "recipients-refused"
SOME_RECIPIENTS_REFUSED = "some-recipients-refused"
ALL_RECIPIENTS_ACCEPTED = "all-accepted"
SENDER_REFUSED = "sender-refused"
MESSAGE_TOO_LARGE = "message-too-large"
SMTPUTF8_REQUIRED = "smtputf8-required"
MESSAGE_NOT_ASCII = "message-not-ascii"
DATA_REFUSED = "data-refused"

# The cell's own Python code
FILE_NOT_FOUND = "file-not-found"
NAME_NOT_DEFINED = "name-not-defined"
DUPLICATE_HEADER = "duplicate-header"
HEADER_LINE_BREAK = "header-line-break"
ATTACHMENT_ARGUMENTS = "attachment-arguments"
PYTHON_ERROR = "python-error"

# Anything else
SERVER_REPLY = "server-reply"
UNKNOWN = "unknown"
NO_ERROR = "no-error"
