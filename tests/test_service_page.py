"""The service's page for people, driven in a real headless Chromium (Debian's chromium and chromedriver,
which .ci/run installs): sign in with the token, watch a batch render (progress, rate, ETA, previews), cancel
it; the API page works offline with a bearer scheme; /health answers without a token (issue 28, outcome 6)."""
import json
import os
import shutil
import urllib.request

import pytest
import ray

from support import test_double
from support.http import serve
from synthact.dispatch import DispatchOptions, Resources
from synthact.dispatch.service import create_app

TOKEN = "page-token"
BATCH = ("batch: {name: watched, seed: 3, count: 30}\n"
         "render: {resolution: {width: 48, height: 48}, frames: 3, samples: 1, device: cpu}\n")


def chromium() -> tuple[str, str]:
    found = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
    if not all(found):
        if os.environ.get("CI"):
            pytest.fail("CI must have Chromium and its driver (.ci/run installs Debian's chromium, chromium-driver)")
        pytest.skip("no Chromium and chromedriver on this machine (apt-get install chromium chromium-driver)")
    return found


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    binary, driver_path = chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def service(registry, tmp_path_factory):
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    options = DispatchOptions(resources=Resources(workers=1, cpus_per_worker=1),
                              renderer=test_double.factory(fabricate=True, seconds=0.4))
    base, stop = serve(create_app(tmp_path_factory.mktemp("page"), TOKEN, registry, options))
    yield base
    stop()
    ray.shutdown()


def wait(driver, condition, timeout_s=90):
    """Until condition(driver) holds; the page redraws its rows every 3 s, so a row read mid-redraw is read again."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout_s, poll_frequency=0.2,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
        lambda d: condition(d))


def test_sign_in_watch_a_batch_and_cancel_it(browser, service):
    from selenium.webdriver.common.by import By
    request = urllib.request.Request(f"{service}/batches", data=BATCH.encode(), method="POST",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    assert json.loads(urllib.request.urlopen(request, timeout=60).read())["batch"] == "watched"
    browser.get(service + "/")
    assert browser.title == "SynthAct manager"
    browser.find_element(By.ID, "token").send_keys("not-the-token")
    browser.find_element(By.ID, "signin").click()
    wait(browser, lambda d: "not accepted" in d.find_element(By.ID, "message").text)
    assert not browser.find_element(By.ID, "batches").is_displayed()
    browser.find_element(By.ID, "token").clear()
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    browser.find_element(By.ID, "signin").click()
    row = '#rows tr[data-batch="watched"]'
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, row))

    def cell(name):  # read in one step, as the page may redraw between two
        return browser.execute_script(f"return document.querySelector('{row} td.{name}').innerText")

    # rendering: progress, a rate, an ETA, and contact sheets that the browser really decoded
    wait(browser, lambda d: cell("state") == "running" and "clips/min" in cell("rate") and ":" in cell("eta")
         and d.execute_script(f"return [...document.querySelectorAll('{row} img.preview')]"
                              ".filter(i => i.complete && i.naturalWidth > 0).length") >= 1)
    done, total = cell("done").split(" / ")
    assert total == "30" and 0 < int(done) < 30
    browser.execute_script(f"document.querySelector('{row} button.cancel').click()")
    wait(browser, lambda d: "Cancelling watched" in d.find_element(By.ID, "message").text)
    wait(browser, lambda d: cell("state").startswith(("cancelled", "interrupted")), timeout_s=120)
    assert cell("eta") == "–" and not browser.find_elements(By.CSS_SELECTOR, f"{row} button.cancel")


def test_the_api_page_works_offline_with_a_bearer_scheme(browser, service):
    from selenium.webdriver.common.by import By
    browser.get(service + "/docs")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock")) >= 5)
    assert browser.find_elements(By.CSS_SELECTOR, ".swagger-ui .btn.authorize")  # the bearer scheme
    sources = browser.execute_script("return [...document.scripts].map(s => s.src).concat("
                                     "[...document.querySelectorAll('link[href]')].map(l => l.href))")
    assert sources and all(s.startswith(service) for s in sources if s)  # nothing from a CDN
    schema = json.loads(urllib.request.urlopen(service + "/openapi.json", timeout=30).read())
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_health_needs_no_token(service):
    answer = json.loads(urllib.request.urlopen(service + "/health", timeout=30).read())
    assert answer["status"] == "ok" and set(answer) == {"status", "running", "queued"}
