package awsapi

// Reset empties the history: the world it described is gone. Numbering
// starts again at 1, so a cursor (SinceSeq) taken before a reset must be
// dropped with it.
func (h *History) Reset() {
	h.log.reset()
}

// AllowAnyKey makes the keyring accept any access key it does not know as
// the admin user of account, the way moto and LocalStack accept their fixed
// fake keys; an empty account turns it off again. Off by default: the lab
// then refuses unknown keys with InvalidClientTokenId, as AWS does.
func (k *Keyring) AllowAnyKey(account string) {
	k.mu.Lock()
	k.anyKey = account
	k.mu.Unlock()
}

// anyKeyCredential is the credential an unknown key gets under
// AllowAnyKey; ok is false when that is off.
func (k *Keyring) anyKeyCredential(akid string) (Credential, bool) {
	k.mu.RLock()
	account := k.anyKey
	k.mu.RUnlock()
	if account == "" || akid == "" {
		return Credential{}, false
	}
	return Credential{AccessKeyID: akid, Identity: Identity{
		AccountID:   account,
		ARN:         "arn:aws:iam::" + account + ":user/lab-admin",
		UserID:      "AIDALABANYKEYADMIN01",
		AccessKeyID: akid,
	}}, true
}

// Mark remembers the keys held now (the built-in admins and a seed's
// access_keys) as the ones a Reset returns to.
func (k *Keyring) Mark() {
	k.mu.Lock()
	k.marked = make(map[string]Credential, len(k.keys))
	for id, c := range k.keys {
		k.marked[id] = c
	}
	k.mu.Unlock()
}

// Reset forgets every key added since the last Mark (STS's temporary
// keys); a new keyring is marked with its built-in admins.
func (k *Keyring) Reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys = make(map[string]Credential, len(k.marked))
	for id, c := range k.marked {
		k.keys[id] = c
	}
}
