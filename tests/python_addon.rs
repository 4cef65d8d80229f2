//! Runs the OpenERP addon's Python tests (`openerp_addon/tests`) against this build's binary.
//!
//! The static checks of the addon, its XML-RPC client against an in-process fake, and the client
//! against the real `magento-connector serve` (started by a pytest fixture on a free loopback
//! port). Needs `python3` with pytest: `python3 -m pip install -r openerp_addon/requirements-test.txt`.

use std::path::Path;
use std::process::Command;

#[test]
fn python_addon_tests_pass_against_this_binary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let probe = Command::new("python3").args(["-c", "import pytest"]).current_dir(root).output();
    match probe {
        Err(err) => panic!("python3 is missing ({err}): the addon tests need python3 and pytest"),
        Ok(out) if !out.status.success() => {
            panic!("pytest is missing: run python3 -m pip install -r openerp_addon/requirements-test.txt")
        }
        Ok(_) => {}
    }
    let output = Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "openerp_addon/tests"])
        .current_dir(root)
        .env("MAGENTO_CONNECTOR_BIN", env!("CARGO_BIN_EXE_magento-connector"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 could be started a moment ago");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python3 -m pytest -q openerp_addon/tests failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    println!("{}", stdout.lines().last().unwrap_or_default());
}
