"""Browser tests: a real JupyterLab server driven by headless Debian Chromium through playwright."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: runs JupyterLab in headless Chromium (needs /usr/bin/chromium and playwright)"
    )
