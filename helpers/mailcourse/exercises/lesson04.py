"""Checks for lesson 04: AUTH around STARTTLS and a context that trusts a CA."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from ..provider import running_simulators
from .result import ExerciseResult, FeedbackList

MODERN_TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")


def check_auth_around_starttls(antes: Any, despues: Any) -> ExerciseResult:
    """Check 04-1: AUTH is not offered before STARTTLS and is offered after."""
    feedback = FeedbackList("04-1")
    if not isinstance(antes, bool) or not isinstance(despues, bool):
        feedback.problem(
            "antes y despues deben valer True o False.",
            "Guarda lo que devuelve conexion.has_extn(\"auth\"), sin más.",
        )
        return feedback.result()
    if antes:
        feedback.problem(
            "antes vale True: el servidor ya anunciaba AUTH.",
            "Conéctate a simulador.starttls_port y guarda antes justo después "
            "del primer ehlo(), sin haber cifrado todavía.",
        )
    else:
        feedback.good("antes vale False: sin cifrar, el simulador no anuncia AUTH.")
    if despues:
        feedback.good("despues vale True: ya cifrada, el simulador anuncia AUTH.")
    else:
        feedback.problem(
            "despues vale False: no aparece AUTH tras cifrar.",
            "Después de starttls() el cliente olvida el saludo: vuelve a "
            "llamar a ehlo() antes de preguntar.",
        )
    return feedback.result()


def check_extended_context(
    ampliado: Any, version: Any, simulador: Any = None
) -> ExerciseResult:
    """Check 04-2: a verifying context that trusts the test CA, and TLS 1.2+.

    ``simulador`` defaults to the simulators started with
    ``start_provider_simulator()``; the context must trust the CA of one.
    """
    feedback = FeedbackList("04-2")
    if not isinstance(ampliado, ssl.SSLContext):
        feedback.problem(
            f"ampliado es de tipo {type(ampliado).__name__}, no un contexto SSL.",
            "Crea el contexto con ssl.create_default_context().",
        )
        return feedback.result()
    _check_verification(ampliado, feedback)
    _check_trusts_simulator(ampliado, simulador, feedback)
    _check_version(version, feedback)
    return feedback.result()


def _check_verification(ampliado: ssl.SSLContext, feedback: FeedbackList) -> None:
    if ampliado.verify_mode == ssl.CERT_REQUIRED and ampliado.check_hostname:
        feedback.good("El contexto comprueba el certificado y el nombre del host.")
    else:
        feedback.problem(
            "Este contexto no comprueba el certificado del servidor.",
            "Parte de ssl.create_default_context(), que lo comprueba, y no "
            "cambies check_hostname ni verify_mode.",
        )


def _check_trusts_simulator(
    ampliado: ssl.SSLContext, simulador: Any, feedback: FeedbackList
) -> None:
    simulators = [simulador] if simulador is not None else running_simulators()
    ca_files = [item.ca_file for item in simulators if item.ca_file is not None]
    if not ca_files:
        feedback.problem(
            "No hay ningún simulador en marcha con el que comparar.",
            "Ejecuta antes la celda con start_provider_simulator().",
        )
        return
    trusted = ampliado.get_ca_certs(binary_form=True)
    for ca_file in ca_files:
        pem = Path(ca_file).read_text(encoding="ascii")
        if ssl.PEM_cert_to_DER_cert(pem) in trusted:
            feedback.good("El contexto confía en la CA de pruebas del simulador.")
            return
    feedback.problem(
        "El contexto aún no confía en la CA de pruebas del simulador.",
        "Añádela con load_verify_locations(cafile=...) y el archivo que "
        "indica simulador.ca_file.",
    )


def _check_version(version: Any, feedback: FeedbackList) -> None:
    if version is None:
        feedback.problem(
            "version vale None.",
            "Lee conexion.sock.version() dentro del bloque with, mientras la "
            "conexión sigue abierta.",
        )
    elif not isinstance(version, str):
        feedback.problem(
            f"version es de tipo {type(version).__name__}, no un texto.",
            "Guarda lo que devuelve conexion.sock.version().",
        )
    elif version in MODERN_TLS_VERSIONS:
        feedback.good(f"La conexión ha usado {version}.")
    else:
        feedback.problem(
            f"version vale «{version}», que no es una versión de TLS actual.",
            "Conéctate con SMTP_SSL y tu contexto, y lee conexion.sock.version().",
        )
