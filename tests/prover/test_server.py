"""The web proof assistant driven in a real (headless) Chromium on a set.mm slice with the frequency baseline."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from browser import chromium  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(slice_db, dataset):
    import uvicorn

    from ilya.prover.baselines import FrequencyPolicy
    from ilya.prover.config import ServeConfig
    from ilya.prover.server import Assistant, make_app

    path, db = slice_db
    cfg = ServeConfig(policy="frequency", data=dataset[0], db=path, e=16, d=32, time_limit=10.0)
    asst = Assistant(db, FrequencyPolicy.from_data(db, dataset[0]), cfg)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(make_app(asst), host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/", asst
    srv.should_exit = True
    t.join(5)


def test_api_bad_input_is_an_error_not_a_500(server):
    import json
    import urllib.request

    url, _ = server
    for body in ({"target": "no_such_label"}, {"target": "|- ( ph -> "}, {}):
        req = urllib.request.Request(url + "api/open", data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200
            assert "error" in json.loads(r.read())


def test_assistant_open_suggest_apply_prove_export_in_chromium(server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, asst = server
    with chromium() as driver:
        driver.get(url)
        # bad input shown in the page
        driver.find_element(By.ID, "target").send_keys("no_such_label")
        driver.find_element(By.ID, "open").click()
        WebDriverWait(driver, 5).until(lambda d: "unknown label" in d.find_element(By.ID, "error").text)
        # open a real theorem: id (|- ( ph -> ph ))
        box = driver.find_element(By.ID, "target")
        box.clear()
        box.send_keys("id")
        driver.find_element(By.ID, "open").click()
        WebDriverWait(driver, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, "button.suggest"))
        assert driver.find_element(By.ID, "error").text == ""
        driver.find_element(By.CSS_SELECTOR, "button.suggest").click()
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "li.suggestion"))
        texts = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "li.suggestion")]
        lps = [float(t[1:t.index("]")]) for t in texts]
        assert lps == sorted(lps, reverse=True) and all(lp <= 0 for lp in lps)
        # apply the best accepted step: the goals change
        before = driver.find_element(By.ID, "goals").text
        applies = driver.find_elements(By.CSS_SELECTOR, "button.apply")
        assert applies
        applies[0].click()
        WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "goals").text != before)
        # reopen, prove from the start, poll until done, export the kernel-checked compressed proof
        box = driver.find_element(By.ID, "target")
        box.clear()
        box.send_keys("id")
        driver.find_element(By.ID, "open").click()
        time.sleep(0.3)
        driver.find_element(By.ID, "prove").click()
        WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "progress").text.split(" ")[0]
                                        in ("proved", "failed"))
        assert driver.find_element(By.ID, "progress").text.startswith("proved")
        WebDriverWait(driver, 5).until(lambda d: d.find_elements(By.ID, "done"))
        driver.find_element(By.ID, "export").click()
        WebDriverWait(driver, 5).until(lambda d: "verified" in d.find_element(By.ID, "proof").text)
        assert driver.find_element(By.ID, "proof").text.startswith("id $p |- ( ph -> ph ) $=")
        if os.environ.get("ILYA_SCREENSHOT"):  # docs/img/prover_assistant.png is made this way
            driver.save_screenshot(os.environ["ILYA_SCREENSHOT"])
