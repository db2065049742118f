"""What operators run beside the workers: principals and ACLs, onboarding, manifests, tools, samples."""
