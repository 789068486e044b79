"""The emulator's voice endpoints round trip (SiliconFlow upload, list, use, delete; StepFun
file upload, cloning and system voices; Coze's voice list), and it runs standalone."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import httpx

from .emu_helpers import COSY, INDEX, auth, cosy, emu, http, post, server, stepfun  # noqa: F401

CLIP = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 8  # bytes are never decoded


def test_siliconflow_upload_list_speak_delete(emu, http):
    sent = {"model": COSY, "customName": "wei", "text": "大家好，我是魏博士。",
            "audio": "data:audio/mpeg;base64," + base64.b64encode(CLIP).decode()}
    uri = post(http, emu, "siliconflow", sent, "/uploads/audio/voice").json()["uri"]
    assert uri.startswith("speech:wei:")
    again = post(http, emu, "siliconflow", sent, "/uploads/audio/voice").json()["uri"]
    assert again == uri  # the same clip and name: the same voice
    listed = http.get(emu.base_url("siliconflow") + "/audio/voice/list",
                      headers=auth(emu, "siliconflow")).json()
    assert listed == {"results": [{"model": COSY, "customName": "wei",
                                   "text": "大家好，我是魏博士。", "uri": uri}]}
    assert post(http, emu, "siliconflow", cosy(voice=uri)).status_code == 200
    deleted = post(http, emu, "siliconflow", {"uri": uri}, "/audio/voice/deletions")
    assert (deleted.status_code, deleted.json()) == (200, {})
    gone = post(http, emu, "siliconflow", cosy(voice=uri))
    assert gone.json()["message"] == f"voice {uri} does not exist for model {COSY}"


def test_siliconflow_multipart_upload_is_logged_field_by_field(emu, http):
    r = http.post(emu.base_url("siliconflow") + "/uploads/audio/voice",
                  headers=auth(emu, "siliconflow"), files={"file": ("x1.mp3", CLIP, "audio/mpeg")},
                  data={"model": INDEX, "customName": "your-voice-name", "text": "慢工出细活"})
    uri = r.json()["uri"]
    entry = emu.log[-1]
    assert entry.form == {"file": {"filename": "x1.mp3", "content_type": "audio/mpeg",
                                   "size": len(CLIP)},
                          "model": INDEX, "customName": "your-voice-name", "text": "慢工出细活"}
    assert post(http, emu, "siliconflow", {"model": INDEX, "input": "你好", "voice": uri}
                ).status_code == 200
    # a voice belongs to the model it was uploaded for
    assert post(http, emu, "siliconflow", cosy(voice=uri)).status_code == 400


def test_siliconflow_upload_checks_its_fields(emu, http):
    r = post(http, emu, "siliconflow", {"model": COSY, "customName": "a b", "text": "x",
                                        "audio": "data:audio/mpeg;base64,QUFB"},
             "/uploads/audio/voice")
    assert r.json() == {"code": 20012, "data": "customName", "message": "customName may hold "
                        "only letters, digits, _ and -, up to 64 characters"}
    r = post(http, emu, "siliconflow", {"model": COSY, "customName": "ab", "text": "x"},
             "/uploads/audio/voice")
    assert r.json()["message"] == "audio (a data URI) or file is required"


def test_stepfun_clone_from_an_uploaded_file(emu, http):
    base, head = emu.base_url("stepfun"), auth(emu, "stepfun")
    file = http.post(base + "/files", headers=head, data={"purpose": "storage"},
                     files={"file": ("wei.wav", CLIP, "audio/wav")}).json()
    assert (file["object"], file["purpose"], file["bytes"]) == ("file", "storage", len(CLIP))
    body = {"model": "step-tts-mini", "file_id": file["id"], "text": "大家好"}
    voice = post(http, emu, "stepfun", body, "/audio/voices").json()
    assert voice["id"].startswith("voice-tone-") and voice["duplicated"] is False
    assert post(http, emu, "stepfun", body, "/audio/voices").json()["duplicated"] is True
    assert post(http, emu, "stepfun", stepfun(voice=voice["id"])).status_code == 200
    wrong = http.post(base + "/files", headers=head, data={"purpose": "fine-tune"},
                      files={"file": ("wei.wav", CLIP, "audio/wav")})
    assert wrong.json() == {"error": {"message": "purpose must be storage, got 'fine-tune'",
                                      "type": "request_params_invalid"}}


def test_stepfun_system_voices_per_model(emu, http):
    r = http.get(emu.base_url("stepfun") + "/audio/system_voices",
                 params={"model": "step-tts-2"}, headers=auth(emu, "stepfun"))
    voices = r.json()["data"]
    assert {"id": "cixingnansheng", "name": "磁性男声", "model": "step-tts-2"} in voices
    assert emu.log[-1].query == {"model": "step-tts-2"}


def test_coze_voice_list_names_each_voices_emotions(emu, http):
    r = http.get(emu.base_url("coze") + "/audio/voices", headers=auth(emu, "coze"))
    body = r.json()
    assert (body["code"], body["msg"], body["data"]["has_more"]) == (0, "", False)
    first = body["data"]["voice_list"][0]
    assert first["voice_id"] == "7426720361732915209" and first["model_type"] == "big"
    assert [e["emotion"] for e in first["support_emotions"]] == [
        "happy", "sad", "angry", "surprised", "excited", "neutral"]
    small = http.get(emu.base_url("coze") + "/audio/voices", params={"model_type": "small"},
                     headers=auth(emu, "coze")).json()["data"]["voice_list"]
    assert [v["name"] for v in small] == ["渊博小叔"]


def test_runs_standalone_and_prints_its_environment():
    proc = subprocess.Popen([sys.executable, "-m", "podcastgen.emulator", "--port", "0"],
                            stdout=subprocess.PIPE, text=True, env={**os.environ})
    try:
        env = {}
        for line in proc.stdout:
            if line.startswith("#"):
                break
            name, value = line.removeprefix("export ").strip().split("=", 1)
            env[name] = value
        r = httpx.post(env["OPENAI_BASE_URL"] + "/audio/speech",
                       headers={"Authorization": f"Bearer {env['OPENAI_API_KEY']}"},
                       json={"model": "tts-1", "input": "Hello.", "voice": "alloy"})
        assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg"
        assert env["COZE_BASE_URL"].startswith("http://127.0.0.1:")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
