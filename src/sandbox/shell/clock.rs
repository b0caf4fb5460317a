//! Time for `date`, `uptime` and `ls -l`: the sandbox's virtual clock when set, else the
//! system clock, always in UTC.

use super::Shell;

/// Days since 1970-01-01 → (year, month 1–12, day 1–31), proleptic Gregorian.
pub(super) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so that leap days end each 400/100/4-year cycle.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl Shell {
    fn now_ms(&self) -> u64 {
        self.clock_ms.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0)
        })
    }

    /// (year, month, day, hour, minute, second, weekday 0 = Sunday), UTC.
    pub(super) fn now_parts(&self) -> (i64, u32, u32, u64, u64, u64, u64) {
        let secs = self.now_ms() / 1000;
        let days = secs / 86_400;
        let (y, mo, d) = civil_from_days(days as i64);
        let rem = secs % 86_400;
        (
            y,
            mo,
            d,
            rem / 3600,
            rem / 60 % 60,
            rem % 60,
            (days + 4) % 7,
        )
    }

    pub(super) fn format_date(&self, fmt: &str) -> String {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let (y, mo, d, h, mi, s, wd) = self.now_parts();
        let mut out = String::new();
        let mut chars = fmt.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('a') => out.push_str(DAYS[wd as usize % 7]),
                Some('b') | Some('h') => out.push_str(MONTHS[(mo as usize + 11) % 12]),
                Some('d') => out.push_str(&format!("{d:02}")),
                Some('e') => out.push_str(&format!("{d:>2}")),
                Some('H') => out.push_str(&format!("{h:02}")),
                Some('M') => out.push_str(&format!("{mi:02}")),
                Some('S') => out.push_str(&format!("{s:02}")),
                Some('Y') => out.push_str(&y.to_string()),
                Some('y') => out.push_str(&format!("{:02}", y.rem_euclid(100))),
                Some('m') => out.push_str(&format!("{mo:02}")),
                Some('s') => out.push_str(&(self.now_ms() / 1000).to_string()),
                Some('F') => out.push_str(&format!("{y}-{mo:02}-{d:02}")),
                Some('T') => out.push_str(&format!("{h:02}:{mi:02}:{s:02}")),
                Some('Z') => out.push_str("UTC"),
                Some('z') => out.push_str("+0000"),
                Some('n') => out.push('\n'),
                Some('%') => out.push('%'),
                Some(o) => {
                    out.push('%');
                    out.push(o);
                }
                None => out.push('%'),
            }
        }
        out
    }
}
