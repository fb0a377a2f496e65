/// A certificate for `localhost`, `wss-primary.slack.test` and 127.0.0.1, self-signed, valid until
/// 2126, and its key: for the TLS end of test servers, trusted by the tests alone. Made with
/// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500 -subj /CN=localhost
/// -addext "subjectAltName=DNS:localhost,DNS:wss-primary.slack.test,IP:127.0.0.1"`.
public enum TestCertificate {
    public static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIBtDCCAVugAwIBAgIUNfKk260G78smHEHoUwioPs3lh2kwCgYIKoZIzj0EAwIw
        FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEzMDAzMDU0N1oYDzIxMjYxMTA2
        MDMwNTQ3WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
        PQMBBwNCAAQh4QUQAt+xD/FL062jSSzBe2gaITBFhOW9MU2xpT/qZvq2d0Z05wiD
        Dr2EInsKvArYwIstfw4CtiE4pRuXkfRpo4GIMIGFMB0GA1UdDgQWBBRVkCZwbg/O
        X2lPSKVM9WII9M3tlDAfBgNVHSMEGDAWgBRVkCZwbg/OX2lPSKVM9WII9M3tlDAP
        BgNVHRMBAf8EBTADAQH/MDIGA1UdEQQrMCmCCWxvY2FsaG9zdIIWd3NzLXByaW1h
        cnkuc2xhY2sudGVzdIcEfwAAATAKBggqhkjOPQQDAgNHADBEAiAENEp/yhGpznB0
        EYiT1TkuCIrsReyAl6yHvUtMJ6SHqAIgdExcLZe8rHQArHYjGV+53SyfuGaaM3Yf
        /Z7r1H9JQYY=
        -----END CERTIFICATE-----
        """

    public static let key = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglOU6C3of2z9NG0EI
        2py0gXiffOpHcnG9Ql45OCY9B6mhRANCAAQh4QUQAt+xD/FL062jSSzBe2gaITBF
        hOW9MU2xpT/qZvq2d0Z05wiDDr2EInsKvArYwIstfw4CtiE4pRuXkfRp
        -----END PRIVATE KEY-----
        """
}
