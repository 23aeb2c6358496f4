// Package images gets the Singularity/Apptainer image a CWL
// DockerRequirement asks for onto local disk, ready to run. It names,
// caches, pulls, validates and lists SIF images; running containers is
// another package's job.
//
// # The cache
//
// A Cache is one directory of SIF files. DefaultDir picks it:
// $FLOW_SINGULARITY_CACHE, else $CWL_SINGULARITY_CACHE (cwltool's
// variable), else flow/singularity under the user's cache directory.
// Sites often fill such a directory for nodes without internet access, and
// users run cwltool and flow side by side, so flow reads and writes the
// directory the way cwltool does rather than keeping a private format.
//
// # Names
//
// The image's name is its dockerImageId if the requirement has one, else
// its dockerPull exactly as written. Ensure pulls into cwltool's classic
// file name for it (_normalize_sif_id): every "/" becomes "_" and ".sif" is
// appended.
//
//	debian:stable-slim                  -> debian:stable-slim.sif
//	quay.io/biocontainers/samtools:1.9  -> quay.io_biocontainers_samtools:1.9.sif
//	docker://debian:12                  -> docker:__debian:12.sif
//
// An image already present is accepted under any name a cwltool or
// cwl-utils version writes, in this order: the ".sif" name above, the same
// with ".img" (_normalize_image_id, Singularity 2), the dockerImageId
// itself when it has no "/" (cwltool pulls to that name when a
// requirement has both fields), current cwltool's escaped name
// (_encode_container_image: ":latest" added to an untagged name, "_" to
// "___", "/" to "_s_"), cwl-utils 0.42's (":" also to "_"), and, for an
// untagged name, the classic name with "_latest". Unlike cwltool, flow
// looks only in the cache directory itself, not in its subdirectories or
// the working directory. A dockerPull or dockerImageId that names an
// existing .sif file (NewRef resolves it against the document's directory)
// is used in place and never enters the cache.
//
// # Offline first
//
// An image on disk is used as it is: no registry is asked whether a tag
// moved, and the Puller is not called. A missing image is pulled once; a
// Cache with Offline set, or without a Puller, reports it missing instead.
// Every image handed out has passed Inspect: it is a SIF file with a root
// file system partition that lies wholly inside the file.
//
// # Locking
//
// Many steps of a workflow, and several flow processes on a cluster's
// shared file system, can need the same missing image at once. Ensure
// therefore pulls under an exclusive flock on "<file>.lock" in the cache
// directory, then looks again (whoever held the lock before may have
// pulled the image), pulls into a hidden temporary file beside the
// target, validates it and renames it into place. Rename is atomic, so a
// reader sees either no image or a whole one, and a failed, cancelled or
// killed pull leaves no file under the image's name; the next pull of the
// image deletes what it left. The kernel releases a dead process's flock,
// so a crash never wedges the cache. Waiting for the lock respects the
// context. Linux emulates flock over NFS with NFS locks; on a file system
// that cannot lock at all (Lustre mounted with noflock) Ensure logs a
// warning and pulls without the lock: images are still whole, only
// possibly pulled more than once. Files are created under the umask, so a
// cache a group shares stays readable by the group.
//
// # Use records
//
// Ensure touches "<file>.used" each time it hands out an image, and List
// reports that time as LastUsed, so old images can be found and removed.
// A sidecar rather than the image's atime: atime is often not kept, and
// only a file's owner may set its times, while a shared cache holds images
// of many owners. Recording is best effort; a read-only cache still works.
package images
