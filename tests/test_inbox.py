"""The inbox view of messages stored by the bundled server."""

from __future__ import annotations

from sample_messages import make_message
from mailcourse import Inbox


def send(client, message):
    assert client.send_message(message) == {}


def test_empty_inbox_text(tmp_path):
    inbox = Inbox(tmp_path)
    assert len(inbox) == 0
    assert inbox.to_text() == "Bandeja de entrada: vacía"


def test_one_message_count_singular(local_server, smtp_client):
    send(smtp_client, make_message())
    assert "Bandeja de entrada: 1 mensaje," in local_server.inbox.to_text()
    assert "</b> 1 mensaje," in local_server.inbox._repr_html_()


def test_three_messages_count_plural(local_server, smtp_client):
    for number in range(3):
        send(smtp_client, make_message(subject=f"Mensaje {number}"))
    assert "Bandeja de entrada: 3 mensajes," in local_server.inbox.to_text()
    assert "</b> 3 mensajes," in local_server.inbox._repr_html_()


def test_headers_decoded_with_accents(local_server, smtp_client):
    send(smtp_client, make_message(subject="Reunión del año ✉"))
    message = local_server.inbox.latest()
    assert message.subject == "Reunión del año ✉"
    assert message.sender == "Ana Pérez <ana@ejemplo.test>"
    assert message.to == "Luis Núñez <luis@ejemplo.test>"


def test_body_text_survives(local_server, smtp_client):
    send(smtp_client, make_message(body="Mañana a las 9, ¿vale?\n"))
    assert local_server.inbox.latest().text == "Mañana a las 9, ¿vale?\n"


def test_attachment_name_type_size(local_server, smtp_client):
    message = make_message()
    message.add_attachment(
        bytes(range(256)) * 4, maintype="image", subtype="png", filename="gráfico.png"
    )
    send(smtp_client, message)
    (attachment,) = local_server.inbox.latest().attachments
    assert attachment.filename == "gráfico.png"
    assert attachment.content_type == "image/png"
    assert attachment.size == 1024
    assert attachment.describe() == "gráfico.png (image/png, 1,0 KB)"


def test_newest_message_first(local_server, smtp_client):
    for number in range(3):
        send(smtp_client, make_message(subject=f"Mensaje {number}"))
    subjects = [message.subject for message in local_server.inbox]
    assert subjects == ["Mensaje 2", "Mensaje 1", "Mensaje 0"]


def test_html_escapes_markup(local_server, smtp_client):
    send(smtp_client, make_message(subject="<b>hola</b> & adiós"))
    rendered = local_server.inbox.latest()._repr_html_()
    assert "&lt;b&gt;hola&lt;/b&gt; &amp; adiós" in rendered
    assert "<b>hola</b>" not in rendered


def test_text_view_lists_attachments(local_server, smtp_client):
    message = make_message()
    message.add_attachment("línea\n", filename="notas.txt")
    send(smtp_client, message)
    text = local_server.inbox.latest().to_text()
    assert "Asunto: Informe de año" in text
    assert "Adjuntos (1):" in text
    assert "notas.txt (text/plain, 7 bytes)" in text


def test_cc_shown(local_server, smtp_client):
    message = make_message()
    message["Cc"] = "Marta <marta@ejemplo.test>"
    send(smtp_client, message)
    stored = local_server.inbox.latest()
    assert stored.cc == "Marta <marta@ejemplo.test>"
    assert "Cc: Marta <marta@ejemplo.test>" in stored.to_text()
