"""Rules for failures while connecting: name look-up, TCP, greeting and TLS."""

from __future__ import annotations

import dataclasses
import errno
import smtplib
import socket
import ssl

from . import kinds
from .model import (
    Context,
    Diagnosis,
    connect_target,
    error_summary,
    reply_text,
    smtp_client_in,
)

# OpenSSL's verify code for a certificate that does not name the host.
X509_V_ERR_HOSTNAME_MISMATCH = 62
X509_V_ERR_IP_ADDRESS_MISMATCH = 64
# Reasons OpenSSL reports when the peer's first bytes are not a TLS record,
# which is what an SMTP greeting looks like to a TLS client. OpenSSL up to 3.1
# reports WRONG_VERSION_NUMBER (seen here with 3.0). OpenSSL 3.2.0 and later
# report "record layer failure", which urllib3 also had to start matching.
NOT_TLS_REASONS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE")


def diagnose_host_not_found(error: BaseException, context: Context) -> Diagnosis | None:
    if not isinstance(error, socket.gaierror):
        return None
    host = context.host or "el servidor"
    temporary = error.errno == socket.EAI_AGAIN
    if temporary:
        cause = (
            f"No se ha podido averiguar la dirección de {host}: el servicio de "
            "nombres (DNS) no ha respondido. Suele pasar sin conexión a "
            "internet o con una red que la bloquea."
        )
        fix = (
            "Comprueba que tienes conexión a internet y vuelve a intentarlo. "
            "Para practicar sin red, usa el servidor del curso "
            "(start_local_server())."
        )
    else:
        cause = (
            f"No existe ningún servidor llamado {host!r}: el nombre no se "
            "puede convertir en una dirección. Casi siempre es una errata en "
            "el nombre."
        )
        fix = _host_spelling_fix(context.host)
    return Diagnosis(
        kind=kinds.HOST_NOT_FOUND,
        title=f"No se encuentra el servidor {host}",
        cause=cause,
        fix=fix,
        details=error_summary(error, context),
    )


def _host_spelling_fix(host: str | None) -> str:
    if host and "@" in host:
        return (
            f"{host!r} parece una dirección de correo. El servidor es un "
            "nombre como 'smtp.gmail.com'; tu dirección va en login() y en From."
        )
    if host and ("://" in host or "/" in host):
        return (
            "Quita 'https://', 'smtp://' y las barras: el servidor es solo un "
            "nombre, por ejemplo 'smtp.gmail.com'."
        )
    if host and host.count(":") == 1:
        return (
            "Quita el puerto del nombre: pasa el servidor y el puerto por "
            "separado, por ejemplo smtplib.SMTP('smtp.gmail.com', 587)."
        )
    return (
        "Copia el nombre del servidor SMTP de la página de ayuda de tu "
        "proveedor (por ejemplo 'smtp.gmail.com') y comprueba cada letra."
    )


def diagnose_connection_refused(
    error: BaseException, context: Context
) -> Diagnosis | None:
    if not isinstance(error, ConnectionRefusedError):
        return None
    if context.on_loopback:
        cause = (
            f"Nada escucha en {context.address}: en tu ordenador no hay ningún "
            "servidor de correo en ese puerto."
        )
        if context.port == 25:
            cause += (
                " Es lo normal: casi ningún ordenador personal trae un "
                "servidor SMTP instalado."
            )
        fix = (
            "Arranca el servidor del curso con servidor = start_local_server() "
            "y conéctate a servidor.host y servidor.port. Si ya lo habías "
            "arrancado, comprueba que usas su puerto y que no lo has parado."
        )
    else:
        cause = (
            f"{context.subject} ha rechazado la conexión: hay una máquina en "
            "esa dirección, pero no acepta conexiones en ese puerto."
        )
        fix = (
            "Revisa el puerto en la ayuda de tu proveedor: 587 para STARTTLS "
            "o 465 para TLS. Un cortafuegos también puede rechazar la conexión."
        )
    return Diagnosis(
        kind=kinds.CONNECTION_REFUSED,
        title=f"Conexión rechazada en {context.address}",
        cause=cause,
        fix=fix,
        details=error_summary(error, context),
    )


def diagnose_network_unreachable(
    error: BaseException, context: Context
) -> Diagnosis | None:
    if not isinstance(error, OSError):
        return None
    if error.errno not in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return None
    return Diagnosis(
        kind=kinds.NETWORK_UNREACHABLE,
        title=f"No hay camino de red hasta {context.address}",
        cause=(
            "Tu ordenador no tiene ruta hasta ese servidor: no hay conexión a "
            "internet, o la red no deja salir hacia esa dirección."
        ),
        fix=(
            "Comprueba la conexión a internet. Para practicar sin red, usa el "
            "servidor del curso (start_local_server())."
        ),
        details=error_summary(error, context),
    )


def diagnose_connect_timeout(
    error: BaseException, context: Context
) -> Diagnosis | None:
    # smtplib wraps timeouts while reading replies in SMTPServerDisconnected,
    # so a bare TimeoutError comes from opening the connection or from the
    # TLS handshake of SMTP_SSL.
    if not isinstance(error, TimeoutError) or isinstance(error, smtplib.SMTPException):
        return None
    if context.port == 25:
        cause = (
            f"La conexión con {context.address} no ha llegado a abrirse a "
            "tiempo. Muchas redes domésticas, universidades y empresas "
            "bloquean la salida por el puerto 25, que es el de los servidores "
            "entre sí, no el de los programas que envían correo."
        )
        fix = (
            "Usa el puerto de envío 587 con starttls() (o el 465 con SMTP_SSL) "
            "y pasa siempre un tiempo de espera, por ejemplo "
            "smtplib.SMTP(servidor, 587, timeout=10)."
        )
    else:
        cause = (
            f"La conexión con {context.address} no ha llegado a abrirse a "
            "tiempo: el servidor no responde o un cortafuegos de tu red "
            "descarta los paquetes sin avisar."
        )
        fix = (
            "Comprueba el nombre y el puerto en la ayuda de tu proveedor (587 "
            "o 465). Si estás en una red de empresa o de centro educativo, "
            "prueba desde otra red. Deja siempre un tiempo de espera "
            "(timeout=10) para que la celda no se quede colgada."
        )
    return Diagnosis(
        kind=kinds.CONNECT_TIMEOUT,
        title=f"Tiempo de espera agotado al conectar con {context.address}",
        cause=cause,
        fix=fix,
        details=error_summary(error, context),
    )


def diagnose_disconnected(error: BaseException, context: Context) -> Diagnosis | None:
    if not isinstance(error, smtplib.SMTPServerDisconnected):
        return None
    message = str(error)
    if "connect() first" in message or "not connected" in message.lower():
        return _not_connected(error, context)
    plain_client = context.security in (None, "none", "starttls")
    if plain_client and context.is_implicit_tls_port():
        return _plain_on_tls_port(error, context)
    if context.security is None and context.port is None and "timed out" in message:
        return _plain_on_tls_port(error, context)
    if "timed out" in message:
        title = f"{context.subject} dejó de responder"
        cause = (
            "La conexión se abrió, pero el servidor no ha contestado dentro "
            "del tiempo de espera."
        )
    else:
        title = f"{context.subject} cerró la conexión"
        cause = (
            "El servidor ha cortado la conexión sin dar una respuesta. Lo "
            "hace cuando pasa demasiado tiempo sin órdenes, tras varios "
            "intentos fallidos o cuando algo le parece sospechoso."
        )
    return Diagnosis(
        kind=kinds.SERVER_DISCONNECTED,
        title=title,
        cause=cause,
        fix=(
            "Vuelve a conectar y haz login() y send_message() seguidos, dentro "
            "del mismo bloque with. Si vuelve a pasar, revisa que el puerto y "
            "la seguridad coinciden: 465 con SMTP_SSL, 587 con starttls()."
        ),
        details=error_summary(error, context),
    )


def _not_connected(error: BaseException, context: Context) -> Diagnosis:
    client = smtp_client_in(error)
    if client is not None and "sock" not in vars(client):
        return _never_connected(error, context)
    if client is None:
        # A hand-built exception: the connection may never have opened.
        title = "La conexión no está abierta"
        cause = (
            "Has usado un objeto SMTP sin conexión abierta: o no se llegó a "
            "conectar (smtplib.SMTP() sin servidor), o ya estaba cerrada tras "
            "quit() o close(), o fuera del bloque with que la abrió."
        )
    else:
        title = "La conexión ya estaba cerrada"
        cause = (
            "Has usado el objeto SMTP después de cerrar la conexión: tras "
            "quit() o close(), o fuera del bloque with que la abrió."
        )
    return Diagnosis(
        kind=kinds.NOT_CONNECTED,
        title=title,
        cause=cause,
        fix=(
            "Crea una conexión nueva (smtplib.SMTP(...) o SMTP_SSL(...)) y "
            "pon todas las órdenes dentro del mismo bloque with."
        ),
        details=error_summary(error, context),
    )


def _never_connected(error: BaseException, context: Context) -> Diagnosis:
    # smtplib.SMTP() connects only when it gets a host. connect() is the first
    # method that stores a socket on the instance, and close() stores None.
    return Diagnosis(
        kind=kinds.NEVER_CONNECTED,
        title="La conexión no se llegó a abrir",
        cause=(
            "El objeto SMTP se creó sin servidor (smtplib.SMTP() sin "
            "argumentos) y nunca se ha conectado, así que no hay con quién "
            "hablar. smtplib solo conecta al crear el objeto si le das el "
            "servidor."
        ),
        fix=(
            "Pasa el servidor y el puerto al crearlo, por ejemplo "
            "smtplib.SMTP(servidor.host, servidor.port) con el servidor del "
            "curso, o llama antes a conexion.connect(servidor.host, "
            "servidor.port)."
        ),
        details=error_summary(error, context),
    )


def _plain_on_tls_port(error: BaseException, context: Context) -> Diagnosis:
    port = f"El puerto {context.port}" if context.port else "Ese puerto"
    like_465 = "" if context.port == 465 else " (como el 465)"
    return Diagnosis(
        kind=kinds.PLAIN_ON_TLS_PORT,
        title="Conexión sin cifrar a un puerto de TLS",
        cause=(
            f"{port} espera TLS desde el primer byte{like_465}, pero "
            "smtplib.SMTP empieza sin cifrar y espera el saludo del servidor. "
            "El servidor, a su vez, espera el saludo de TLS: los dos se quedan "
            "esperando hasta que se agota el tiempo o el servidor corta."
        ),
        fix=(
            "Usa smtplib.SMTP_SSL(servidor, puerto, context=contexto) para ese "
            "puerto, o conéctate con smtplib.SMTP al puerto de STARTTLS (587) "
            "y llama a starttls()."
        ),
        details=error_summary(error, context),
    )


def diagnose_connect_rejected(
    error: BaseException, context: Context
) -> Diagnosis | None:
    if not isinstance(error, smtplib.SMTPConnectError):
        return None
    reply = reply_text(error.smtp_error)
    return Diagnosis(
        kind=kinds.CONNECT_REJECTED,
        title=f"{context.subject} no ha aceptado la sesión",
        cause=(
            f"El servidor ha contestado al conectar con el código "
            f"{error.smtp_code} en lugar de 220, que es el saludo de "
            "bienvenida. Así rechaza la sesión: está saturado, en "
            "mantenimiento, o no admite conexiones desde tu red."
        ),
        fix=(
            "Espera un poco y vuelve a intentarlo. Si se repite, comprueba que "
            "usas el servidor de envío de tu proveedor y su puerto (587 o 465)."
        ),
        details=context.clean(f"{error.smtp_code} {reply}"),
    )


def diagnose_certificate(error: BaseException, context: Context) -> Diagnosis | None:
    if not isinstance(error, ssl.SSLCertVerificationError):
        return None
    mismatch_codes = (X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH)
    if error.verify_code in mismatch_codes or "mismatch" in str(error).lower():
        return _hostname_mismatch(error, context)
    reason = error.verify_message or "no se ha podido verificar"
    if context.course_server_role() in ("tls", "starttls"):
        fix = (
            "El simulador del curso usa su propia autoridad de certificación. "
            "Pasa context=simulador.client_context() a SMTP_SSL o a "
            "starttls(): así Python confía en ella y sigue verificando."
        )
    else:
        fix = (
            "No desactives la verificación: es lo que te protege de un "
            "impostor. Comprueba que el servidor es el de tu proveedor. En "
            "macOS, con Python de python.org, ejecuta una vez «Install "
            "Certificates.command». En una red de empresa, un programa que "
            "inspecciona el tráfico puede causar esto; prueba desde otra red."
        )
    return Diagnosis(
        kind=kinds.CERTIFICATE_NOT_TRUSTED,
        title=f"El certificado de {context.address} no es de confianza",
        cause=(
            "Python ha comprobado el certificado del servidor y no lo acepta "
            f"({reason}). Sin esa comprobación, cualquiera en la red podría "
            "hacerse pasar por el servidor y leer tu contraseña."
        ),
        fix=fix,
        details=error_summary(error, context),
    )


def _hostname_mismatch(
    error: ssl.SSLCertVerificationError, context: Context
) -> Diagnosis:
    host = context.host or "el nombre que usaste"
    return Diagnosis(
        kind=kinds.HOSTNAME_MISMATCH,
        title=f"El certificado no es para {host}",
        cause=(
            f"El servidor ha presentado un certificado válido, pero emitido "
            f"para otro nombre, no para {host}. Pasa al conectar con una "
            "dirección IP, con un alias del servidor o con el servidor de "
            "otro proveedor."
        ),
        fix=(
            "Conéctate con el nombre exacto que da tu proveedor (por ejemplo "
            "'smtp.gmail.com'), no con su IP ni con otro alias. No desactives "
            "la comprobación del nombre: es la que impide que otro servidor "
            "se haga pasar por el tuyo."
        ),
        details=error_summary(error, context),
    )


def diagnose_ssl_error(error: BaseException, context: Context) -> Diagnosis | None:
    if not isinstance(error, ssl.SSLError):
        return None
    reason = getattr(error, "reason", None) or ""
    message = str(error).lower()
    for not_tls_reason in NOT_TLS_REASONS:
        spelled_out = not_tls_reason.lower().replace("_", " ")
        if reason == not_tls_reason or spelled_out in message:
            return _ssl_on_starttls_port(error, context)
    return Diagnosis(
        kind=kinds.TLS_FAILED,
        title=f"Ha fallado el cifrado TLS con {context.address}",
        cause=(
            "La negociación de TLS no ha terminado bien: el servidor ha "
            "cortado o no comparte ninguna versión de TLS con tu Python."
        ),
        fix=(
            "Comprueba que el puerto y la seguridad coinciden (465 con "
            "SMTP_SSL, 587 con starttls()) y que tu Python está actualizado."
        ),
        details=error_summary(error, context),
    )


def _ssl_on_starttls_port(error: BaseException, context: Context) -> Diagnosis:
    if context.port is None:
        # With no port given, as in explain(error), smtplib's frames give it.
        host, port = connect_target(error)
        target = dataclasses.replace(context, host=context.host or host, port=port)
    else:
        target = context
    if target.course_server_role() == "local":
        return _tls_on_course_server(error, target)
    port = f"El puerto {context.port}" if context.port else "Ese puerto"
    like_587 = "" if context.port == 587 else " (como el 587)"
    return Diagnosis(
        kind=kinds.SSL_ON_STARTTLS_PORT,
        title="SMTP_SSL contra un puerto de STARTTLS",
        cause=(
            f"{port} empieza sin cifrar{like_587}: el servidor saluda con "
            "texto normal («220 ...») y el cifrado se pide después con "
            "STARTTLS. SMTP_SSL, en cambio, empieza hablando TLS, y al recibir "
            "texto en lugar de TLS se queja de un «wrong version number»."
        ),
        fix=(
            "Para ese puerto usa smtplib.SMTP(servidor, puerto) y después "
            "starttls(context=contexto). Si prefieres SMTP_SSL, conéctate al "
            "puerto de TLS implícito (465)."
        ),
        details=error_summary(error, context),
    )


def _tls_on_course_server(error: BaseException, context: Context) -> Diagnosis:
    return Diagnosis(
        kind=kinds.TLS_ON_COURSE_SERVER,
        title="SMTP_SSL contra el servidor del curso, que no cifra",
        cause=(
            f"En {context.address} escucha el servidor del curso. No cifra "
            "nada, ni desde el principio (SMTP_SSL) ni después (STARTTLS), "
            "porque solo escucha en tu ordenador. Saluda con texto normal "
            "(«220 ...»), y SMTP_SSL, que espera TLS, se queja de un "
            "«wrong version number»."
        ),
        fix=(
            "Conéctate con smtplib.SMTP(servidor.host, servidor.port), sin "
            "SMTP_SSL y sin starttls(). Para practicar el cifrado, usa el "
            "simulador de proveedor (start_provider_simulator())."
        ),
        details=error_summary(error, context),
    )


def diagnose_starttls_not_offered(
    error: BaseException, context: Context
) -> Diagnosis | None:
    if not isinstance(error, smtplib.SMTPNotSupportedError):
        return None
    if "STARTTLS" not in str(error):
        return None
    role = context.course_server_role()
    if context.security == "tls" or role == "tls":
        cause = (
            "La conexión ya está cifrada desde el principio (SMTP_SSL), así "
            "que el servidor no ofrece STARTTLS."
        )
        fix = "Quita la llamada a starttls(): con SMTP_SSL no hace falta."
    elif role == "local":
        cause = (
            "El servidor del curso no cifra: solo escucha en tu ordenador, así "
            "que no ofrece STARTTLS."
        )
        fix = (
            "Con el servidor del curso no llames a starttls(). Para practicar "
            "el cifrado, usa el simulador de proveedor "
            "(start_provider_simulator())."
        )
    else:
        cause = (
            f"{context.subject} no ofrece STARTTLS en este puerto, así que la "
            "conexión no se puede cifrar."
        )
        fix = (
            "No envíes la contraseña por esta conexión. Usa el puerto de envío "
            "de tu proveedor: 587 con starttls() o 465 con SMTP_SSL."
        )
    return Diagnosis(
        kind=kinds.STARTTLS_NOT_OFFERED,
        title="El servidor no ofrece STARTTLS",
        cause=cause,
        fix=fix,
        details=error_summary(error, context),
    )


RULES = (
    diagnose_host_not_found,
    diagnose_connection_refused,
    diagnose_network_unreachable,
    diagnose_connect_timeout,
    diagnose_disconnected,
    diagnose_connect_rejected,
    diagnose_certificate,
    diagnose_ssl_error,
    diagnose_starttls_not_offered,
)
