// Package origin runs the lab's built-in origins: small HTTP responders that
// stand in for the S3 buckets, ECS services and EC2 fleets behind the
// distributions and load balancers of the user stories.
//
// Every origin has a name and a marker object: GET /ruok answers
// "ok-<name>" (the ok-old-cdn / ok-new-cdn files of seed 001), and every
// response carries X-Lab-Origin: <name>, so whoever receives a response can
// tell which side of a migration served it. Faults (an error rate, added
// latency, refused connections) are set at run time through the Go API or
// the admin handler, so a rehearsal can watch gates and rollbacks react to a
// failing origin.
//
// One port serves both plain HTTP and TLS (the first byte of a connection
// decides), so a distribution's origin protocol policy never needs a second
// listener. The TLS certificate is self-signed: CloudFront validates origin
// certificates, the lab's edges do not.
package origin
