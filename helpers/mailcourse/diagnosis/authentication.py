"""Rules for failures around ``login()``: AUTH missing, refused or unencodable.

Provider wording checked in public issue threads that quote the replies:
Gmail's ``534 5.7.9 Application-specific password required`` and ``535 5.7.8
Username and Password not accepted`` (for example
https://github.com/Der-Henning/tgtg/issues/517 and
https://github.com/AlfredoSequeida/etext/issues/5), Microsoft's ``535
5.7.139 Authentication unsuccessful, basic authentication is disabled``,
``... SmtpClientAuthentication is disabled for the Tenant`` and ``550 5.7.30
Basic authentication is not supported for Client Submission`` (for example
https://github.com/nodemailer/nodemailer/issues/1714,
https://github.com/nodemailer/nodemailer/issues/1484 and
https://github.com/OpenCTI-Platform/opencti/issues/12069).
"""

from __future__ import annotations

import smtplib

from . import kinds
from .model import Context, Diagnosis, error_summary, reply_text, smtplib_functions

# smtplib functions whose frames show that an error happened while logging in.
_LOGIN_FUNCTIONS = {"login", "auth", "auth_plain", "auth_login", "auth_cram_md5"}

_MICROSOFT_MARKERS = (
    "basic authentication is disabled",
    "smtpclientauthentication is disabled",
    "basic authentication is not supported",
    "5.7.30",
)
_GMAIL_MARKERS = ("gsmtp", "support.google.com", "application-specific password")


def raised_during_login(error: BaseException) -> bool:
    """Return true when ``error`` comes from smtplib's ``login()`` or ``auth()``.

    Without a traceback (an exception built by hand), a PLAIN payload, which
    starts with a NUL byte, also counts.
    """
    functions = smtplib_functions(error)
    if _LOGIN_FUNCTIONS.intersection(functions):
        return True
    if functions:
        return False
    payload = getattr(error, "object", "")
    return isinstance(payload, str) and "\0" in payload


def diagnose_non_ascii_credentials(
    error: BaseException, context: Context
) -> Diagnosis | None:
    if not isinstance(error, UnicodeEncodeError) or not raised_during_login(error):
        return None
    return Diagnosis(
        kind=kinds.NON_ASCII_CREDENTIALS,
        title="La contraseña o el usuario llevan letras fuera del ASCII",
        cause=(
            "smtplib.login() convierte el usuario y la contraseña a ASCII "
            "antes de enviarlos, y ASCII no tiene letras como ñ, á o ü. Es "
            "una limitación conocida de smtplib, no un error tuyo: el fallo "
            "ocurre en tu ordenador, antes de enviar nada."
        ),
        fix=(
            "Usa mailcourse.client.login(conexion, usuario, contraseña), que "
            "envía el usuario y la contraseña en UTF-8. Si tu proveedor te da "
            "una contraseña de aplicación, úsala: solo lleva letras sin tilde."
        ),
        # The message quotes the offending character: only the type is kept.
        details=f"{type(error).__name__} en login() (codificación {error.encoding})",
    )


def diagnose_auth_not_offered(
    error: BaseException, context: Context
) -> Diagnosis | None:
    if not isinstance(error, smtplib.SMTPNotSupportedError):
        return None
    if "AUTH" not in str(error) or "STARTTLS" in str(error):
        return None
    role = context.course_server_role()
    if role == "local":
        cause = (
            "El servidor del curso no pide usuario ni contraseña, así que no "
            "ofrece AUTH y login() no tiene nada que hacer."
        )
        fix = "Con el servidor del curso, quita la llamada a login() y envía directamente."
    elif context.security in ("tls", "starttls"):
        cause = (
            f"La conexión ya está cifrada, pero {context.address} no ofrece "
            "AUTH en este puerto. Suele pasar en el puerto 25, que es para "
            "el correo entre servidores, no para enviar con tu cuenta."
        )
        fix = "Usa el puerto de envío de tu proveedor: 587 con starttls() o 465 con SMTP_SSL."
    else:
        cause = (
            "Muchos servidores solo ofrecen AUTH después de cifrar la "
            "conexión, para que la contraseña no viaje en claro. Has llamado "
            "a login() antes de starttls(), y el servidor aún no anunciaba AUTH."
        )
        fix = (
            "Llama a conexion.starttls(context=contexto) justo después de "
            "conectar y antes de login(); starttls() vuelve a saludar (EHLO) "
            "y el servidor anuncia entonces AUTH. En el puerto 465 usa SMTP_SSL."
        )
    return Diagnosis(
        kind=kinds.AUTH_NOT_OFFERED,
        title="El servidor no ofrece AUTH (inicio de sesión)",
        cause=cause,
        fix=fix,
        details=error_summary(error, context),
    )


def diagnose_no_suitable_mechanism(
    error: BaseException, context: Context
) -> Diagnosis | None:
    if type(error) is not smtplib.SMTPException:
        return None
    if "No suitable authentication method" not in str(error):
        return None
    return Diagnosis(
        kind=kinds.AUTH_MECHANISM_UNSUPPORTED,
        title="No hay un método de inicio de sesión común",
        cause=(
            "smtplib sabe iniciar sesión con PLAIN, LOGIN y CRAM-MD5, y el "
            "servidor no ofrece ninguno de ellos. Cuando solo ofrece XOAUTH2 "
            "u OAUTHBEARER, el proveedor exige OAuth2 en lugar de contraseña."
        ),
        fix=(
            "Mira qué métodos anuncia: conexion.esmtp_features['auth']. Si "
            "solo hay OAuth2, ese proveedor no se puede usar con usuario y "
            "contraseña; prueba con otro, o con el simulador del curso."
        ),
        details=error_summary(error, context),
    )


def diagnose_authentication(error: BaseException, context: Context) -> Diagnosis | None:
    if not isinstance(error, smtplib.SMTPAuthenticationError):
        return None
    code = error.smtp_code
    reply = reply_text(error.smtp_error)
    lowered = reply.lower()
    details = context.clean(f"{code} {reply}")
    if any(marker in lowered for marker in _MICROSOFT_MARKERS):
        return _microsoft_basic_auth(details)
    if _looks_like_gmail(reply, context) and code in (534, 535):
        return _gmail_app_password(code, details)
    if code == 454:
        return Diagnosis(
            kind=kinds.AUTH_TEMPORARY_FAILURE,
            title="Fallo temporal al iniciar sesión",
            cause=(
                "El servidor no ha podido comprobar tus credenciales ahora "
                "mismo (código 454, un error temporal)."
            ),
            fix="Espera unos minutos y vuelve a intentarlo sin cambiar nada.",
            details=details,
        )
    if code == 538 or "starttls" in lowered or "encryption required" in lowered:
        return starttls_required(details, context)
    return _credentials_refused(code, details, context)


def _looks_like_gmail(reply: str, context: Context) -> bool:
    if context.preset is not None and context.preset.key == "gmail":
        return True
    lowered = reply.lower()
    return any(marker in lowered for marker in _GMAIL_MARKERS)


def _microsoft_basic_auth(details: str) -> Diagnosis:
    return Diagnosis(
        kind=kinds.MICROSOFT_BASIC_AUTH_DISABLED,
        title="Microsoft no acepta usuario y contraseña (autenticación básica desactivada)",
        cause=(
            "El servidor de Microsoft (Outlook.com, Hotmail o Microsoft 365) "
            "dice que la autenticación básica está desactivada: no acepta "
            "iniciar sesión con usuario y contraseña, ni siquiera con una "
            "contraseña de aplicación. Solo admite OAuth2."
        ),
        fix=(
            "smtplib.login() no sirve con esta cuenta. En una cuenta de "
            "trabajo o de centro educativo, pide al administrador que active "
            "SMTP AUTH para tu buzón, si todavía es posible. Si no, usa otro "
            "proveedor que admita contraseñas de aplicación (por ejemplo "
            "Gmail) o el simulador del curso para practicar."
        ),
        details=details,
    )


def _gmail_app_password(code: int, details: str) -> Diagnosis:
    if code == 534:
        cause = (
            "Gmail pide una contraseña de aplicación: tu cuenta tiene la "
            "verificación en dos pasos activada y no acepta la contraseña "
            "normal desde programas como smtplib."
        )
    else:
        cause = (
            "Gmail no ha aceptado el usuario y la contraseña. Gmail ya no "
            "acepta la contraseña normal de la cuenta desde programas: hace "
            "falta una contraseña de aplicación, y también puede que el "
            "usuario o la contraseña tengan una errata."
        )
    return Diagnosis(
        kind=kinds.GMAIL_APP_PASSWORD,
        title="Gmail necesita una contraseña de aplicación",
        cause=cause,
        fix=(
            "Activa la verificación en dos pasos en tu cuenta de Google, crea "
            "una contraseña de aplicación (16 letras, en myaccount.google.com/"
            "apppasswords) y úsala en login() en lugar de tu contraseña. El "
            "usuario es tu dirección de Gmail completa. Los espacios con que "
            "Google la muestra no forman parte de ella."
        ),
        details=details,
    )


def _credentials_refused(code: int, details: str, context: Context) -> Diagnosis:
    fix = (
        "Comprueba el usuario (casi siempre es la dirección de correo "
        "completa) y la contraseña, sin espacios al principio ni al final."
    )
    preset = context.preset
    if preset is not None and preset.oauth_only:
        fix += f" Además, {preset.name} solo admite OAuth2: " + preset.requirements
    elif preset is not None and preset.needs_app_password:
        fix += (
            f" Además, {preset.name} pide una contraseña de aplicación: "
            + preset.requirements
        )
    elif context.course_server_role() in ("tls", "starttls"):
        fix += (
            " En el simulador del curso, la cuenta de laboratorio es LAB_USER "
            "con LAB_PASSWORD."
        )
    else:
        fix += (
            " Muchos proveedores exigen una contraseña de aplicación en lugar "
            "de la contraseña normal: búscalo en la ayuda de tu proveedor."
        )
    return Diagnosis(
        kind=kinds.AUTH_FAILED,
        title="El servidor ha rechazado el usuario o la contraseña",
        cause=(
            f"El servidor ha respondido {code} a login(): no acepta esas "
            "credenciales. El servidor no dice si falla el usuario o la "
            "contraseña, a propósito."
        ),
        fix=fix,
        details=details,
    )


def starttls_required(details: str, context: Context) -> Diagnosis:
    """Build the diagnosis for a server that requires STARTTLS before a command."""
    return Diagnosis(
        kind=kinds.STARTTLS_REQUIRED,
        title="El servidor exige cifrar antes de seguir",
        cause=(
            f"{context.subject} no acepta esa orden en una conexión sin "
            "cifrar: primero hay que pedir STARTTLS."
        ),
        fix=(
            "Llama a conexion.starttls(context=contexto) justo después de "
            "conectar, antes de login() y de send_message()."
        ),
        details=details,
    )


def auth_required(details: str, context: Context) -> Diagnosis:
    """Build the diagnosis for a 530 reply asking for AUTH before sending."""
    if context.course_server_role() in ("tls", "starttls"):
        account = "usuario LAB_USER y contraseña LAB_PASSWORD"
    else:
        account = "tu usuario y tu contraseña (o contraseña de aplicación)"
    return Diagnosis(
        kind=kinds.AUTH_REQUIRED,
        title="Hay que iniciar sesión antes de enviar",
        cause=(
            f"{context.subject} solo acepta mensajes de usuarios que han "
            "iniciado sesión (código 530), y esta conexión no lo ha hecho."
        ),
        fix=(
            f"Llama a conexion.login() con {account} después de cifrar la "
            "conexión (starttls() o SMTP_SSL) y antes de send_message()."
        ),
        details=details,
    )


RULES = (
    diagnose_non_ascii_credentials,
    diagnose_auth_not_offered,
    diagnose_no_suitable_mechanism,
    diagnose_authentication,
)
