//! Option values read exactly as sbatch reads them, including the
//! forms [`crate::units`] does not accept (`--time=0`, `--time=1-`,
//! `--time=-1`, `--mem=1GB`). Errors are sbatch's own words.

use crate::units::TimeLimit;

/// `time_str2mins` (src/common/parse_time.c) followed by `--time`'s rule
/// that 0 means no limit. `None` when sbatch refuses the value.
pub(crate) fn time_limit(text: &str) -> Option<TimeLimit> {
    if text.eq_ignore_ascii_case("-1")
        || text.eq_ignore_ascii_case("infinite")
        || text.eq_ignore_ascii_case("unlimited")
    {
        return Some(TimeLimit::Unlimited);
    }
    if !is_valid_timespec(text) {
        return None;
    }
    let seconds: i64 = if let Some((days, rest)) = text.split_once('-') {
        // days-[hours[:minutes[:seconds]]], read by sscanf("%d-%d:%d:%d").
        let days = leading_int(days)?;
        let fields = scan_fields(rest);
        let [h, m, s] = [0, 1, 2].map(|i| fields.get(i).copied().unwrap_or(0));
        days * 86_400 + h * 3_600 + m * 60 + s
    } else {
        let fields = scan_fields(text);
        match fields.as_slice() {
            [h, m, s] => h * 3_600 + m * 60 + s,
            [m, s] => m * 60 + s,
            [m] => m * 60,
            _ => return None,
        }
    };
    if !(0..=i64::from(i32::MAX)).contains(&seconds) {
        return None;
    }
    let minutes = (seconds + 59) / 60;
    Some(match u32::try_from(minutes) {
        Ok(0) => TimeLimit::Unlimited,
        Ok(m) => TimeLimit::Minutes(m),
        Err(_) => return None,
    })
}

/// `_is_valid_timespec`: digits, at most one '-' (before any ':'), at most
/// two ':', and enough numbers for the separators.
fn is_valid_timespec(text: &str) -> bool {
    let (mut digit, mut dash, mut colon) = (0, 0, 0);
    let mut in_digits = false;
    for c in text.chars() {
        match c {
            '0'..='9' => {
                if !in_digits {
                    digit += 1;
                    in_digits = true;
                }
            }
            '-' => {
                in_digits = false;
                dash += 1;
                if colon > 0 {
                    return false;
                }
            }
            ':' => {
                in_digits = false;
                colon += 1;
            }
            _ => return false,
        }
    }
    if digit == 0 || dash > 1 || colon > 2 {
        return false;
    }
    let needed = if dash > 0 { colon + 2 } else { colon + 1 };
    colon == 0 || digit >= needed
}

/// The numbers sscanf("%d:%d:%d") reads before the first mismatch.
fn scan_fields(text: &str) -> Vec<i64> {
    let mut fields = Vec::new();
    for part in text.split(':').take(3) {
        match leading_int(part) {
            Some(n) if !part.is_empty() => fields.push(n),
            _ => break,
        }
    }
    fields
}

fn leading_int(text: &str) -> Option<i64> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text[..end].parse().ok()
}

/// `str_to_mbytes` (src/common/proc_args.c): a number with an optional
/// K, M, G or T (optionally followed by B); megabytes when none.
pub(crate) fn megabytes(text: &str) -> Option<u64> {
    let trimmed = text.trim_start();
    let unsigned = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let end = unsigned
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(unsigned.len());
    if end == 0 {
        return None;
    }
    let number: u64 = unsigned[..end].parse().ok()?;
    let suffix = &unsigned[end..];
    let unit = suffix.chars().next();
    let rest = unit.map_or("", |u| &suffix[u.len_utf8()..]);
    let ends_on_byte = rest.is_empty() || rest == "B" || rest == "b";
    match unit {
        None => Some(number),
        Some('k' | 'K') if ends_on_byte => Some(number.div_ceil(1024)),
        Some('m' | 'M') if ends_on_byte => Some(number),
        Some('g' | 'G') if ends_on_byte => number.checked_mul(1024),
        Some('t' | 'T') if ends_on_byte => number.checked_mul(1024 * 1024),
        _ => None,
    }
}

/// `parse_int(name, value, positive=true)`: a whole positive number, or
/// sbatch's error line. `int_max_too_large`: the release refuses
/// `INT_MAX` and above as "too large" (24.11 and 26.05); 22.05 only
/// refuses what `strtol` saturates to (`LONG_MAX`), and eval refuses the
/// counts between, which 22.05 would wrap.
pub(crate) fn positive_int(
    option: &str,
    text: &str,
    int_max_too_large: bool,
) -> Result<i64, String> {
    let bad = || format!("Invalid numeric value \"{text}\" for {option}.");
    let trimmed = text.trim_start_matches(is_c_space);
    let (negative, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    if negative || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // strtol saturates.
    let value: i64 = digits.parse().unwrap_or(i64::MAX);
    if value == 0 {
        return Err(bad());
    }
    if int_max_too_large && value >= i64::from(i32::MAX) {
        return Err(format!(
            "Numeric argument ({value}) too large for {option}."
        ));
    }
    if value == i64::MAX {
        return Err(format!("Numeric argument ({value}) to big for {option}."));
    }
    if value > i64::from(i32::MAX) {
        return Err(bad());
    }
    Ok(value)
}

/// C's isspace in the C locale.
fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// `verify_node_count`: `N` or `MIN-MAX` (with k/m multipliers), or
/// sbatch's error line; a single count sets both. With `lists` (24.11 and
/// 26.05), a list of counts (`1,4`, `2-6:2`) sets the smallest and the
/// largest.
pub(crate) fn node_count(text: &str, lists: bool) -> Result<(i64, i64), String> {
    if lists && text.contains([',', ':']) {
        return node_count_list(text);
    }
    let parse = |part: &str| -> Result<i64, String> {
        let (number, leftover) = str_to_nodes(part, lists);
        if !leftover.trim().is_empty() || number.is_none() {
            return Err(format!("\"{part}\" is not a valid node count"));
        }
        Ok(number.unwrap_or(-1))
    };
    let (min, max) = match text.split_once('-') {
        Some((min, max)) => {
            let min = parse(min)?.max(1);
            (min, parse(max)?)
        }
        None => {
            let count = parse(text)?;
            if count < 0 {
                return Err(format!("\"{text}\" is not a valid node count"));
            }
            (count, count)
        }
    };
    if max != 0 && max < min {
        return Err(format!(
            "Maximum node count {max} is less than minimum node count {min}"
        ));
    }
    Ok((min, max))
}

/// A job size list (src/common/proc_args.c:511 in 24.11): every number
/// below `MAX_JOB_SIZE_BITMAP` (16384), read as a bitmap (`bit_unfmt`):
/// `A,B-C` or `A-B:STEP`.
fn node_count_list(text: &str) -> Result<(i64, i64), String> {
    const MAX_JOB_SIZE_BITMAP: i64 = 16384;
    for token in text.split([',', '-', ':']).filter(|t| !t.is_empty()) {
        let ok = token.parse::<i64>().is_ok_and(|n| n < MAX_JOB_SIZE_BITMAP);
        if !ok {
            return Err(format!("\"{token}\" is not a valid node count"));
        }
    }
    let invalid = || format!("\"{text}\" is not a valid node count");
    let number = |t: &str| t.parse::<i64>().map_err(|_| invalid());
    let mut bits: Vec<i64> = Vec::new();
    if let Some((range, step)) = text.split_once(':') {
        let (start, end) = range.split_once('-').ok_or_else(invalid)?;
        let (start, end, step) = (number(start)?, number(end)?, number(step)?);
        if end < start || step <= 0 {
            return Err(invalid());
        }
        bits.extend((start..end).step_by(usize::try_from(step).unwrap_or(1)));
    } else {
        for item in text.split(',').filter(|i| !i.is_empty()) {
            let (low, high) = item.split_once('-').unwrap_or((item, item));
            let (low, high) = (number(low)?, number(high)?);
            if high >= low {
                bits.extend([low, high]);
            }
        }
    }
    match (bits.iter().min(), bits.iter().max()) {
        (Some(min), Some(max)) => Ok((*min, *max)),
        _ => Err(invalid()),
    }
}

/// `_str_to_nodes`: strtol plus an optional k or m multiplier; the
/// number (None without digits) and what is left. `bounded`: a count
/// below 0 or above `INT_MAX` is none (24.11 and 26.05,
/// src/common/proc_args.c:486 in 24.11).
fn str_to_nodes(text: &str, bounded: bool) -> (Option<i64>, &str) {
    let trimmed = text.trim_start();
    let sign_len = usize::from(trimmed.starts_with(['-', '+']));
    let digits_end = trimmed[sign_len..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(trimmed.len(), |i| i + sign_len);
    if digits_end == sign_len {
        return (None, text);
    }
    let Ok(mut number) = trimmed[..digits_end].parse::<i64>() else {
        return (None, text);
    };
    let mut rest = &trimmed[digits_end..];
    if let Some(r) = rest.strip_prefix(['k', 'K']) {
        number = number.saturating_mul(1024);
        rest = r;
    }
    if let Some(r) = rest.strip_prefix(['m', 'M']) {
        number = number.saturating_mul(1024 * 1024);
        rest = r;
    }
    if bounded && !(0..=i64::from(i32::MAX)).contains(&number) {
        return (Some(-1), rest);
    }
    (Some(number), rest)
}

/// `--extra-node-info=S[:C[:T]]` (`*` for any): sockets, cores, threads.
pub(crate) fn socket_core_thread(text: &str) -> Option<[Option<i64>; 3]> {
    let mut out = [None; 3];
    let parts: Vec<&str> = text.split(':').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    for (slot, part) in out.iter_mut().zip(&parts) {
        if *part == "*" {
            continue;
        }
        let value: i64 = part.parse().ok()?;
        if value <= 0 {
            return None;
        }
        *slot = Some(value);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minutes(text: &str) -> Option<u32> {
        match time_limit(text)? {
            TimeLimit::Minutes(m) => Some(m),
            TimeLimit::Unlimited => Some(u32::MAX),
        }
    }

    #[test]
    fn every_sbatch_time_form() {
        assert_eq!(minutes("90"), Some(90));
        assert_eq!(minutes("90:30"), Some(91), "seconds round up");
        assert_eq!(minutes("1:00:00"), Some(60));
        assert_eq!(minutes("2-0"), Some(2 * 1440));
        assert_eq!(minutes("1-2"), Some(1440 + 120));
        assert_eq!(minutes("1-2:30"), Some(1440 + 150));
        assert_eq!(minutes("1-2:30:01"), Some(1440 + 151));
        assert_eq!(minutes("1-"), Some(1440), "sbatch reads 1- as one day");
        assert_eq!(time_limit("0"), Some(TimeLimit::Unlimited), "0 is no limit");
        assert_eq!(time_limit("-1"), Some(TimeLimit::Unlimited));
        assert_eq!(time_limit("UNLIMITED"), Some(TimeLimit::Unlimited));
        assert_eq!(time_limit("infinite"), Some(TimeLimit::Unlimited));
        assert_eq!(minutes("0:30"), Some(1));
    }

    #[test]
    fn times_sbatch_refuses() {
        for bad in ["", "abc", "1:2:3:4", "1-2-3", "1:2-3", " 5", "1.5", "1-:"] {
            assert_eq!(time_limit(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn memory_as_sbatch_reads_it() {
        assert_eq!(megabytes("512"), Some(512));
        assert_eq!(megabytes("16G"), Some(16384));
        assert_eq!(megabytes("16GB"), Some(16384));
        assert_eq!(megabytes("16gb"), Some(16384));
        assert_eq!(megabytes("1T"), Some(1 << 20));
        assert_eq!(megabytes("1500K"), Some(2));
        assert_eq!(megabytes("0"), Some(0));
        for bad in ["", "G", "16X", "16GiB", "-5", "1.5G"] {
            assert_eq!(megabytes(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn counts() {
        for int_max in [false, true] {
            assert_eq!(positive_int("--ntasks", "4", int_max), Ok(4));
            assert_eq!(positive_int("--ntasks", " +4", int_max), Ok(4));
            assert!(positive_int("--ntasks", "0", int_max).is_err());
            assert!(positive_int("--ntasks", "-3", int_max).is_err());
            assert_eq!(
                positive_int("--ntasks", "x", int_max),
                Err("Invalid numeric value \"x\" for --ntasks.".to_owned())
            );
        }
        assert_eq!(
            positive_int("--ntasks", "2147483647", true),
            Err("Numeric argument (2147483647) too large for --ntasks.".to_owned())
        );
        assert_eq!(
            positive_int("--ntasks", "2147483647", false),
            Ok(2147483647)
        );
        assert_eq!(
            positive_int("--ntasks", "99999999999999999999", false),
            Err("Numeric argument (9223372036854775807) to big for --ntasks.".to_owned())
        );
        for lists in [false, true] {
            assert_eq!(node_count("3", lists), Ok((3, 3)));
            assert_eq!(node_count("2-4", lists), Ok((2, 4)));
            assert_eq!(node_count("1k", lists), Ok((1024, 1024)));
            assert!(node_count("4-2", lists).is_err());
            assert!(node_count("two", lists).is_err());
        }
        assert!(node_count("1,4", false).is_err());
        assert_eq!(node_count("1,4", true), Ok((1, 4)));
        assert_eq!(node_count("2-4,8", true), Ok((2, 8)));
        assert_eq!(node_count("2-9:3", true), Ok((2, 8)));
        assert_eq!(
            node_count("1,x", true),
            Err("\"x\" is not a valid node count".to_owned())
        );
        assert_eq!(socket_core_thread("2:4"), Some([Some(2), Some(4), None]));
        assert_eq!(socket_core_thread("*:4:1"), Some([None, Some(4), Some(1)]));
        assert_eq!(socket_core_thread("x"), None);
    }
}
