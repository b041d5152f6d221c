//! Generated ids for households, members, ledger lines, jobs, events and visits.

use rand::Rng;

/// Lower-case letters and digits without the easily confused `0`, `1`, `l`, `o`.
const ALPHABET: &[u8] = b"23456789abcdefghijkmnpqrstuvwxyz";

/// A new random id of 16 characters (80 bits), safe to generate offline on any device.
pub fn new_id<R: Rng + ?Sized>(rng: &mut R) -> String {
    (0..16)
        .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char)
        .collect()
}

/// Whether `text` has the shape of a generated id (16 characters of the alphabet): every id a
/// phone sends is checked with this before it is stored or printed anywhere.
pub fn is_id(text: &str) -> bool {
    text.len() == 16 && text.bytes().all(|c| ALPHABET.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ids_are_sixteen_safe_characters_and_differ() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let a = new_id(&mut rng);
        let b = new_id(&mut rng);
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
        assert_ne!(a, b);
        assert!(is_id(&a));
        for bad in [
            "",
            "newhousehold0001",
            "abcdefghijkmnpq\n",
            "<b>cdefghijkmnpq",
        ] {
            assert!(!is_id(bad), "{bad:?}");
        }
    }
}
