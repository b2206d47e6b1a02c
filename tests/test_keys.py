import stat

import pytest

from exchange.crypto.keys import KeyPair
from exchange.errors import KeyFileError


def test_save_load_round_trip_and_file_protection(tmp_path):
    original = KeyPair.generate("sanitiser", with_pseudonym_secret=True)
    path = tmp_path / "sanitiser.key"
    original.save(path, "correct horse battery staple")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = KeyPair.load(path, "correct horse battery staple")
    assert loaded.public == original.public
    assert loaded.pseudonym_secret == original.pseudonym_secret
    text = path.read_text()
    assert loaded.public.as_config()["x25519"] in text  # public part readable
    assert original.pseudonym_secret.hex() not in text and "pseudonym_secret" not in text


def test_wrong_passphrase_and_damaged_file(tmp_path):
    path = tmp_path / "k.key"
    KeyPair.generate("p").save(path, "the right passphrase")
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        KeyPair.load(path, "the wrong passphrase")
    path.write_text("{not json")
    with pytest.raises(KeyFileError, match="not a key file"):
        KeyPair.load(path, "the right passphrase")
    with pytest.raises(KeyFileError, match="no such key file"):
        KeyPair.load(tmp_path / "absent.key", "x" * 12)


def test_short_passphrase_refused_and_repr_hides_keys(tmp_path):
    keypair = KeyPair.generate("p")
    with pytest.raises(KeyFileError):
        keypair.save(tmp_path / "k.key", "short")
    assert "hidden" in repr(keypair) and bytes(keypair.box_key).hex() not in repr(keypair)
    with pytest.raises(KeyFileError, match="no pseudonym secret"):
        keypair.pseudonym_secret  # noqa: B018 - reading the property is what must raise
